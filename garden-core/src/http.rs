//! HTTP for talking to model servers: one shared client, and a response body read as lines
//! (Ollama's NDJSON streams and OpenAI's server-sent events) with a cap on a line's length.

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{Stream, TryStreamExt};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tokio_util::io::StreamReader;

/// Longest line a stream may send (an answer's delta or a status line is far shorter).
pub const MAX_LINE: usize = 8 << 20;

/// The client every request goes through: connections are reused, and a server that does not
/// accept one within 5 s is reported as down. Requests set their own overall timeouts.
pub fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build().unwrap_or_default())
        .clone()
}

/// The body's lines, without their `\n` (or `\r\n`); the last line counts even without one.
/// A line longer than [`MAX_LINE`], or a broken connection, is an error item.
pub fn lines(resp: reqwest::Response) -> impl Stream<Item = Result<String, LinesCodecError>> {
    let body = StreamReader::new(resp.bytes_stream().map_err(std::io::Error::other));
    FramedRead::new(body, LinesCodec::new_with_max_length(MAX_LINE))
}

/// Says what went wrong with a line stream, for an error message.
pub fn line_error(e: &LinesCodecError) -> String {
    match e {
        LinesCodecError::MaxLineLengthExceeded => format!("a line longer than {} MB", MAX_LINE >> 20),
        LinesCodecError::Io(io) => io.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;

    /// A server that sends `body` in pieces of `piece` bytes (split inside lines) and closes.
    async fn serve(body: Vec<u8>, piece: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
            socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n").await.unwrap();
            for piece in body.chunks(piece) {
                socket.write_all(piece).await.unwrap();
                socket.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        url
    }

    #[tokio::test]
    async fn lines_split_across_pieces_crlf_and_a_last_line_without_newline() {
        let body = "{\"status\":\"pulling\"}\n\r\ndata: {\"é\":\"한국어\"}\r\n\nlast".as_bytes().to_vec();
        let resp = client().get(serve(body, 3).await).send().await.unwrap();
        let got: Vec<String> = lines(resp).map(Result::unwrap).collect().await;
        assert_eq!(got, ["{\"status\":\"pulling\"}", "", "data: {\"é\":\"한국어\"}", "", "last"]);
    }

    #[tokio::test]
    async fn a_line_over_the_cap_is_an_error_not_a_memory_spike() {
        let mut body = vec![b'x'; MAX_LINE + 10];
        body.push(b'\n');
        let resp = client().get(serve(body, 1 << 16).await).send().await.unwrap();
        let first = std::pin::pin!(lines(resp)).next().await.unwrap();
        let e = first.unwrap_err();
        assert!(line_error(&e).contains("longer than 8 MB"), "{}", line_error(&e));
    }
}
