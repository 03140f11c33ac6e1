//! A webhook receiver on loopback: takes every POST, records path (with query), headers and
//! body, and answers 200 with a fixed JSON body (what a robot platform says when it accepts).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Received {
    /// Path and query, as requested.
    pub target: String,
    pub body: String,
    pub at: std::time::Instant,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    /// The accept loop and every connection, so `stop` can close them all.
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Receiver {
    /// Listens on 127.0.0.1 (an ephemeral port) and answers every request with `answer`.
    pub async fn start(answer: &'static str) -> Receiver {
        Receiver::start_on("127.0.0.1:0".parse().expect("literal address"), answer).await
    }

    /// Listens on `addr` (to come back on the port of one stopped before).
    pub async fn start_on(addr: std::net::SocketAddr, answer: &'static str) -> Receiver {
        let listener = TcpListener::bind(addr).await.expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                let connection = tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    loop {
                        let mut request_line = String::new();
                        if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let target = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
                        let mut length = 0usize;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let line = line.trim_end();
                            if line.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        store.lock().unwrap().push(Received {
                            target,
                            body: String::from_utf8_lossy(&body).into_owned(),
                            at: std::time::Instant::now(),
                        });
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        if write.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
                connections.lock().unwrap().push(connection.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Receiver { addr, received, tasks }
    }

    /// Stops listening and closes every connection, as a receiver that went down.
    pub fn stop(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received at paths starting with `prefix`.
    pub fn at(&self, prefix: &str) -> Vec<Received> {
        self.received.lock().unwrap().iter().filter(|r| r.target.starts_with(prefix)).cloned().collect()
    }
}
