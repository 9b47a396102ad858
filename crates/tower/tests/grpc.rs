//! Through tonic's server, in process: a unary method behind an
//! `HttpPolicyLayer` with `GrpcAnswers`, each rejection answered with its
//! gRPC code, the method's own statuses untouched, and the limiter's state
//! shared by every clone of the service.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http_body_util::BodyExt;
use steadfast::breaker::Breaker;
use steadfast::ratelimit::{Quota, RateLimiter};
use steadfast_core::{Pipeline, Policy};
use steadfast_tower::grpc::GrpcAnswers;
use steadfast_tower::http::HttpPolicyLayer;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService};
use tonic::{Code, Status};
use tower::{Layer, Service, ServiceExt};

/// Messages are raw bytes: no protobuf needed to reach tonic's framing.
#[derive(Clone, Copy, Debug, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `/echo.Echo/Say`: echoes its message, or fails with NOT_FOUND for "missing".
#[derive(Clone, Debug, Default)]
struct Echo;

impl NamedService for Echo {
    const NAME: &'static str = "echo.Echo";
}

impl Service<http::Request<Body>> for Echo {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            let say = tower::service_fn(|message: tonic::Request<Bytes>| async move {
                let message = message.into_inner();
                if &message[..] == b"missing" {
                    return Err(Status::not_found("no such greeting"));
                }
                Ok(tonic::Response::new(message))
            });
            Ok(Grpc::new(RawCodec).unary(say, request).await)
        })
    }
}

/// A gRPC request for `/echo.Echo/Say` carrying `message`, framed.
fn say(message: &[u8]) -> http::Request<Body> {
    let mut frame = Vec::with_capacity(5 + message.len());
    frame.push(0);
    frame.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(message);
    http::Request::post("/echo.Echo/Say")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Body::new(http_body_util::Full::new(Bytes::from(frame))))
        .unwrap()
}

/// The call's gRPC status code and message, from the headers of a
/// trailers-only response or from the trailers, and the message it carried.
async fn outcome(response: http::Response<Body>) -> (Code, http::HeaderMap, Bytes) {
    let (parts, body) = response.into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let mut metadata = parts.headers;
    metadata.extend(trailers);
    let code = metadata
        .get("grpc-status")
        .map(|v| Code::from_bytes(v.as_bytes()))
        .expect("every gRPC response has a status");
    let data = collected.to_bytes();
    let message = if data.len() > 5 {
        data.slice(5..)
    } else {
        Bytes::new()
    };
    (code, metadata, message)
}

#[tokio::test(start_paused = true)]
async fn each_rejection_has_its_code_and_the_method_keeps_its_own() {
    let limiter = RateLimiter::builder(Quota::per_minute(2))
        .name("grpc-api")
        .build()
        .unwrap();
    let breaker = Breaker::builder()
        .consecutive_failures(1)
        .open_for(Duration::from_secs(30))
        .build()
        .unwrap();
    let layer =
        HttpPolicyLayer::new(Pipeline::new(limiter).then(breaker.clone())).answers(GrpcAnswers);
    let service = layer.layer(Echo);

    // Admitted: the method's answer, its status in the trailers.
    let (code, _, message) = outcome(service.clone().oneshot(say(b"hello")).await.unwrap()).await;
    assert_eq!((code, &message[..]), (Code::Ok, &b"hello"[..]));

    // The method's own status passes through untouched.
    let (code, metadata, _) =
        outcome(service.clone().oneshot(say(b"missing")).await.unwrap()).await;
    assert_eq!(code, Code::NotFound);
    // grpc-message is percent-encoded on the wire.
    assert_eq!(metadata["grpc-message"], "no%20such%20greeting");

    // The quota of 2 per minute is spent across clones: RESOURCE_EXHAUSTED,
    // with the wait as gRPC's retry pushback.
    let (code, metadata, _) = outcome(service.clone().oneshot(say(b"again")).await.unwrap()).await;
    assert_eq!(code, Code::ResourceExhausted);
    assert_eq!(metadata["grpc-retry-pushback-ms"], "30000");
    assert_eq!(metadata["retry-after"], "30");

    // An open circuit: UNAVAILABLE, with its wait.
    tokio::time::advance(Duration::from_secs(60)).await;
    let tripped = breaker
        .call(|| async { Err::<(), _>(std::io::Error::other("down")) })
        .await;
    assert!(tripped.is_err());
    let (code, metadata, _) = outcome(service.clone().oneshot(say(b"hello")).await.unwrap()).await;
    assert_eq!(code, Code::Unavailable);
    assert_eq!(metadata["grpc-retry-pushback-ms"], "30000");
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_deadline_exceeded() {
    #[derive(Clone, Debug, Default)]
    struct Stuck;
    impl NamedService for Stuck {
        const NAME: &'static str = "echo.Stuck";
    }
    impl Service<http::Request<Body>> for Stuck {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future =
            Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;
        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _request: http::Request<Body>) -> Self::Future {
            Box::pin(std::future::pending())
        }
    }
    let timeout = steadfast_core::Timeout::new(Duration::from_millis(250)).unwrap();
    let service = HttpPolicyLayer::new(timeout)
        .answers(GrpcAnswers)
        .layer(Stuck);
    let (code, metadata, _) = outcome(service.oneshot(say(b"hello")).await.unwrap()).await;
    assert_eq!(code, Code::DeadlineExceeded);
    assert!(metadata.get("grpc-retry-pushback-ms").is_none());
}
