//! The metrics listener: a minimal HTTP/1.1 server that answers `GET /metrics` (and `HEAD`)
//! with the rendered text, 404 for any other path and 405 for any other method, one request
//! per connection. It needs no HTTP stack: Prometheus sends one small GET per scrape.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The content type of the Prometheus text format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The longest request head read; a scrape's is a few hundred bytes.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound metrics listener, not yet serving.
#[derive(Debug)]
pub struct MetricsListener {
    listener: TcpListener,
}

impl MetricsListener {
    /// Binds `address` (port 0 picks a free port).
    ///
    /// # Errors
    /// The bind error.
    pub async fn bind(address: SocketAddr) -> std::io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(address).await?,
        })
    }

    /// The address it is bound to.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves on the current tokio runtime until the runtime stops; `render` is called once per
    /// scrape and returns the body.
    pub fn spawn<R>(self, render: R) -> tokio::task::JoinHandle<()>
    where
        R: Fn() -> String + Send + Sync + 'static,
    {
        let render = Arc::new(render);
        tokio::spawn(async move {
            loop {
                match self.listener.accept().await {
                    Ok((stream, _)) => {
                        let render = render.clone();
                        tokio::spawn(async move {
                            if let Err(error) = answer(stream, render.as_ref()).await {
                                tracing::debug!(%error, "metrics connection failed");
                            }
                        });
                    }
                    Err(error) => {
                        // Out of descriptors, most likely: wait rather than spin.
                        tracing::warn!(%error, "metrics listener could not accept");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        })
    }
}

/// Reads one request head and writes one response, then closes the connection.
async fn answer(
    mut stream: TcpStream,
    render: &(dyn Fn() -> String + Send + Sync),
) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(head) => head?,
        Err(_) => return Ok(()),
    };
    let response = match request_line(&head) {
        None => response("400 Bad Request", "text/plain", "bad request\n", true),
        Some((method, "/metrics")) => match method {
            "GET" => response("200 OK", CONTENT_TYPE, &render(), true),
            "HEAD" => response("200 OK", CONTENT_TYPE, &render(), false),
            _ => response(
                "405 Method Not Allowed\r\nAllow: GET, HEAD",
                "text/plain",
                "method not allowed\n",
                true,
            ),
        },
        Some(_) => response(
            "404 Not Found",
            "text/plain",
            "not found: try /metrics\n",
            true,
        ),
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The bytes up to the blank line that ends the head (or up to the limit, or end of input).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0_u8; 1024];
    while head.len() < MAX_HEAD_BYTES && !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    Ok(head)
}

/// The method and the path (without its query) of an HTTP/1.x request line.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|byte| *byte == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") || method.is_empty() {
        return None;
    }
    Some((method, target.split('?').next().unwrap_or(target)))
}

/// A complete response; `status` may carry extra header lines after the reason phrase.
fn response(status: &str, content_type: &str, body: &str, with_body: bool) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{}",
        body.len(),
        if with_body { body } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_parse_strictly() {
        assert_eq!(
            request_line(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(
            request_line(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(request_line(b"GET /metrics\r\n\r\n"), None);
        assert_eq!(request_line(b"GET /metrics SPDY/3 extra\r\n\r\n"), None);
        assert_eq!(request_line(b"\xff\xfe"), None);
    }

    async fn fetch(address: SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    }

    #[tokio::test]
    async fn answers_metrics_and_refuses_the_rest() {
        let listener = MetricsListener::bind(([127, 0, 0, 1], 0).into())
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        listener.spawn(|| "up 1\n".to_string());
        let ok = fetch(address, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")));
        assert!(ok.ends_with("\r\n\r\nup 1\n"));
        let head = fetch(address, "HEAD /metrics HTTP/1.1\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"));
        let missing = fetch(address, "GET / HTTP/1.1\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        let post = fetch(address, "POST /metrics HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405 ") && post.contains("Allow: GET, HEAD\r\n"));
        let garbage = fetch(address, "hello\r\n\r\n").await;
        assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    }
}
