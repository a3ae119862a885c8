//! A real local Ray head for tests: `ray start --head` from the trainer's environment (which has
//! `ray[default]` and LLaMA-Factory, so its jobs can train), CPU only, every port chosen free, its
//! own temp folder; stopped by Ray's own command on drop. `ray stop` ends every Ray process of
//! the machine, so a test binary runs one head at a time.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct RayHead {
    pub url: String,
    ray: PathBuf,
    path: std::ffi::OsString,
    _temp: tempfile::TempDir,
    stopped: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether `GET path` on 127.0.0.1:port answers 200 with `ALIVE` in its body.
fn answers(port: u16, path: &str) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut body = Vec::new();
    let _ = s.read_to_end(&mut body);
    body.starts_with(b"HTTP/1.") && body.get(9..12) == Some(b"200".as_slice()) && body.windows(5).any(|w| w == b"ALIVE")
}

impl RayHead {
    /// Starts a head with `cpus` CPUs from the environment of `python` (its `bin/ray`).
    pub fn start(python: &Path, cpus: u32) -> RayHead {
        let bin = python.parent().unwrap().to_owned();
        let ray = bin.join("ray");
        assert!(ray.exists(), "no Ray at {} (./scripts/test installs ray[default] for the tests)", ray.display());
        // The environment's bin first: the jobs run `python`, and it must be this one.
        let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
        let temp = tempfile::Builder::new().prefix("ray").tempdir_in("/tmp").unwrap();
        let dashboard = free_port();
        let out = Command::new(&ray)
            .args(["start", "--head", "--disable-usage-stats", "--dashboard-host", "127.0.0.1"])
            .args(["--num-cpus", &cpus.to_string(), "--num-gpus", "0"])
            .args(["--dashboard-port", &dashboard.to_string(), "--port", &free_port().to_string()])
            .args(["--ray-client-server-port", &free_port().to_string()])
            .args(["--dashboard-agent-listen-port", &free_port().to_string()])
            .args(["--dashboard-agent-grpc-port", &free_port().to_string()])
            .arg("--temp-dir")
            .arg(temp.path())
            .env("PATH", &path)
            .env("HF_HUB_OFFLINE", "1")
            .env("RAY_USAGE_STATS_ENABLED", "0")
            .output()
            .unwrap();
        assert!(out.status.success(), "ray start failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let head = RayHead { url: format!("http://127.0.0.1:{dashboard}"), ray, path, _temp: temp, stopped: false };
        let deadline = Instant::now() + Duration::from_secs(90);
        while !answers(dashboard, "/nodes?view=summary") {
            assert!(Instant::now() < deadline, "the Ray dashboard at {} did not answer", head.url);
            std::thread::sleep(Duration::from_millis(300));
        }
        head
    }

    /// `ray stop --force`: the head and its jobs end at once (a cluster going away).
    pub fn stop(&mut self) {
        if !self.stopped {
            let _ = Command::new(&self.ray).args(["stop", "--force"]).env("PATH", &self.path).output();
            self.stopped = true;
        }
    }
}

impl Drop for RayHead {
    fn drop(&mut self) {
        self.stop();
    }
}
