//! Runs the real server in-process on 127.0.0.1:0 with a temporary data dir.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use garden_core::{Settings, Studio};
use garden_eden::{serve, ServeConfig};
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub studio: Studio,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        for file in ["garden-eden.js", "garden-eden.wasm", "garden-eden.css"] {
            std::fs::write(site.join("pkg").join(file), b"").unwrap();
        }
        let mut settings = Settings::new(dir.path().join("data"));
        // Nothing listens on the discard port: Ollama is "not running" unless a test says so.
        settings.ollama_url = "http://127.0.0.1:9".into();
        settings.python = Some(PathBuf::from("/nonexistent/python"));
        configure(&mut settings);
        let studio = Studio::open(settings).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let config = ServeConfig {
            studio: studio.clone(),
            site_root: site,
            allowed_hosts: vec![],
        };
        let task = tokio::spawn(async move {
            serve(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            addr,
            studio,
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
