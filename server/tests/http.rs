//! The real server over real HTTP: pages, server functions, the security guard.

mod common;

use common::{client, TestServer};
use rusqlite::params;

#[tokio::test]
async fn home_page_renders_the_checks_on_the_server() {
    let server = TestServer::start().await;
    let res = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Your set-up"), "{html}");
    // Every doctor check is on the page, already rendered (no JavaScript needed).
    for key in ["database", "disk", "python", "llamafactory", "llama_cpp", "ollama", "gpu", "extras"] {
        assert!(html.contains(&format!("data-key=\"{key}\"")), "check {key} missing");
    }
    assert!(html.contains("nothing answers at http://127.0.0.1:9"), "ollama down is explained");
    assert!(html.contains("/pkg/garden-eden.js"), "hydration script is referenced");
    server.stop().await;
}

#[tokio::test]
async fn every_response_forbids_framing_and_sniffing() {
    let server = TestServer::start().await;
    let answered = client().get(server.url("/train")).send().await.unwrap();
    assert_eq!(answered.status(), 200);
    let refused = client().get(server.url("/")).header("host", "[::1]evil.com").send().await.unwrap();
    assert_eq!(refused.status(), 403, "a malformed Host is refused");
    for res in [answered, refused] {
        let h = res.headers();
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["content-security-policy"], "frame-ancestors 'none'");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
    }
    server.stop().await;
}

#[tokio::test]
async fn pages_are_compressed_as_the_browser_asks() {
    let server = TestServer::start().await;
    for (asked, expected) in [("br, gzip", Some("br")), ("gzip", Some("gzip")), ("identity", None)] {
        let res = client().get(server.url("/train")).header("accept-encoding", asked).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), expected, "asked for {asked}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_bundle_is_sent_precompressed_when_a_twin_exists_and_revalidated() {
    let server = TestServer::start().await;
    let pkg = server.dir.path().join("site").join("pkg");
    let css = "body { color: black; }\n".repeat(200);
    std::fs::write(pkg.join("garden-eden.css"), &css).unwrap();
    // A twin as `--precompress` writes it: what is sent must be these very bytes.
    let twin = b"precompressed at build time".to_vec();
    std::fs::write(pkg.join("garden-eden.css.br"), &twin).unwrap();
    let res = client().get(server.url("/pkg/garden-eden.css")).header("accept-encoding", "br, gzip").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.bytes().await.unwrap().to_vec(), twin, "the twin, not a second compression");
    // No twin for gzip: compressed on the fly instead; and a 304 while the file is unchanged.
    let res = client().get(server.url("/pkg/garden-eden.css")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let modified = res.headers()["last-modified"].clone();
    let again = client()
        .get(server.url("/pkg/garden-eden.css"))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Pages are not the bundle: no such header on them.
    let page = client().get(server.url("/train")).send().await.unwrap();
    assert!(page.headers().get("cache-control").is_none_or(|v| v != "no-cache"));
    server.stop().await;
}

#[tokio::test]
async fn a_client_holding_a_request_open_does_not_keep_the_server_from_stopping() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start().await;
    // Headers promising a body that never comes.
    let mut stalled = tokio::net::TcpStream::connect(server.url("").trim_start_matches("http://")).await.unwrap();
    let head = format!("POST /import/upload HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n--x\r\n", server.url("").trim_start_matches("http://"));
    stalled.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(20), server.stop()).await.expect("the server stopped");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "stopped in {:?}", started.elapsed());
    drop(stalled);
}

#[tokio::test]
async fn unknown_paths_are_404_pages() {
    let server = TestServer::start().await;
    let res = client().get(server.url("/no-such-page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
    server.stop().await;
}

#[tokio::test]
async fn a_foreign_host_header_is_refused() {
    let server = TestServer::start().await;
    for path in ["/", "/conversations", "/pkg/garden-eden.js"] {
        let res = client()
            .get(server.url(path))
            .header("host", "evil.example:3000")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Host 'evil.example:3000'"), "{body}");
        assert!(body.contains("DNS-rebinding"), "{body}");
    }
    // A loopback name passes.
    let res = client()
        .get(server.url("/"))
        .header("host", format!("localhost:{}", server.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn server_functions_answer_same_origin_and_refuse_cross_origin() {
    let server = TestServer::start().await;
    // Same origin, as the hydrated page calls it.
    let res = client()
        .post(server.url("/api/health"))
        .header("origin", server.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let health: serde_json::Value = res.json().await.unwrap();
    assert_eq!(health["conversations"], 0);
    assert_eq!(health["checks"].as_array().unwrap().len(), garden_core::doctor::CHECK_KEYS.len());

    // A page on another origin posting here.
    let res = client()
        .post(server.url("/api/health"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("cross-site request forgery"));

    // Another local service is another origin too.
    let res = client()
        .post(server.url("/api/health"))
        .header("origin", "http://127.0.0.1:1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn conversations_page_lists_what_the_database_holds() {
    let server = TestServer::start().await;
    let html = client()
        .get(server.url("/conversations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("No conversations yet"), "empty state is explained");

    server
        .studio
        .db()
        .call(|conn| {
            conn.execute(
                "INSERT INTO conversations (id, title, source, created_at, updated_at)
                 VALUES ('c1', 'Planning a trip to Jeju', 'goe-v3', 1795676709000, 1795676709000),
                        ('c2', '', 'chat', 1795676000000, 1795676000000)",
                [],
            )?;
            for (i, (role, text)) in [("user", "제주도 여행 계획"), ("assistant", "좋아요!")]
                .iter()
                .enumerate()
            {
                conn.execute(
                    "INSERT INTO messages (id, conversation_id, position, role, content, created_at)
                     VALUES (?1, 'c1', ?2, ?3, ?4, 0)",
                    params![format!("m{i}"), i as i64, role, text],
                )?;
            }
            conn.execute(
                "INSERT INTO feedback (id, conversation_id, satisfaction, created_at)
                 VALUES ('f', 'c1', 0.9, 1)",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();

    let html = client()
        .get(server.url("/conversations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Planning a trip to Jeju"));
    assert!(html.contains("(untitled)"));
    assert!(html.contains("0.90"));
    assert!(html.contains("2026-11-26 07:05 UTC"));
    assert!(html.contains("1–2 of 2"));

    let html = client()
        .get(server.url("/conversations?q=%EC%A0%9C%EC%A3%BC"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("1–1 of 1"), "search finds the Korean message");

    let html = client()
        .get(server.url("/conversations?q=nothing-like-this"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Nothing matches"));
    server.stop().await;
}

#[tokio::test]
async fn a_typed_error_crosses_the_wire() {
    let server = TestServer::start().await;
    // Arguments the server function cannot decode: the answer is an AppError in JSON, with its kind.
    let res = client()
        .post(server.url("/api/conversations/list"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("offset=not-a-number")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_server_error() || res.status().is_client_error());
    let error: app::error::AppError = res.json().await.unwrap();
    assert!(matches!(error, app::error::AppError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn doctor_reads_the_version_of_an_ollama_stand_in() {
    // A stand-in for Ollama's documented `GET /api/version` (no Ollama server can be installed
    // here); the core talks to it exactly as to the real one.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ollama = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/api/version",
            axum::routing::get(|| async { axum::Json(serde_json::json!({"version": "0.34.2"})) }),
        );
        axum::serve(listener, app).await.unwrap();
    });
    let server = TestServer::start_with(|s| s.ollama_url = ollama.clone()).await;
    let report = garden_core::doctor::run(&server.studio).await;
    let check = report.get("ollama").unwrap();
    assert_eq!(check.status, garden_core::doctor::Status::Ok, "{check:?}");
    assert!(check.detail.contains("Ollama 0.34.2"), "{}", check.detail);
    assert!(check.detail.contains("merged models"), "{}", check.detail);
    server.stop().await;
}

#[test]
fn only_loopback_binds_without_the_flag() {
    use garden_eden::check_bind_addr;
    assert!(check_bind_addr("127.0.0.1:3000".parse().unwrap(), false).is_ok());
    assert!(check_bind_addr("[::1]:3000".parse().unwrap(), false).is_ok());
    let err = check_bind_addr("192.168.1.10:3000".parse().unwrap(), false).unwrap_err();
    assert!(err.to_string().contains("--allow-remote"), "{err}");
    assert!(check_bind_addr("[::]:3000".parse().unwrap(), false).is_err());
    assert!(check_bind_addr("[::]:3000".parse().unwrap(), true).is_ok());
}

fn multipart(kind: &str, file_name: &str, content: &str) -> (String, String) {
    let boundary = "garden-eden-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn an_uploaded_file_is_imported_and_a_bad_one_explained() {
    let server = TestServer::start().await;
    let good = "{\"system\": \"be brief\", \"user\": \"안녕?\", \"assistant\": \"안녕하세요!\", \"satisfaction\": 0.9}\n\
                {\"user\": \"2+2?\", \"assistant\": \"4\"}\n";
    let (content_type, body) = multipart("jsonl", "../../etc/history.jsonl", good);
    let res = client()
        .post(server.url("/import/upload"))
        .header("origin", server.origin())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/import?done="), "{location}");
    let html = client().get(server.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Imported 2 conversations"), "{html}");
    // Imported, the uploaded copy is gone (the import record keeps its sha256).
    let uploads_dir = server.studio.settings().data_dir.join("uploads");
    let uploads = || -> Vec<String> {
        std::fs::read_dir(&uploads_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(uploads(), Vec::<String>::new());
    let imports = server.studio.db().call(|c| garden_core::import::list_imports(c)).await.unwrap();
    assert_eq!(imports[0].sha256.len(), 64, "provenance kept");
    // Asked to keep it: saved inside the data dir under a fresh name.
    let (content_type, body) = multipart("jsonl", "../../etc/history.jsonl", good);
    let body = body.replacen("--garden-eden-test-boundary", "--garden-eden-test-boundary\r\nContent-Disposition: form-data; name=\"keep\"\r\n\r\non\r\n--garden-eden-test-boundary", 1);
    let res = client()
        .post(server.url("/import/upload"))
        .header("origin", server.origin())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/import?done="));
    let kept = uploads();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].ends_with("_.._etc_history.jsonl") && !kept[0].starts_with('.'), "{kept:?}");

    let (content_type, body) = multipart("jsonl", "bad.jsonl", "{\"user\": \"hi\", \"assistant\": \"yo\"}\nnot json\n");
    let res = client()
        .post(server.url("/import/upload"))
        .header("origin", server.origin())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/import?error="), "{location}");
    let html = client().get(server.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("line 2"), "the error names the line");
    let conversations = server.studio.db().call(|c| garden_core::conversations::count(c)).await.unwrap();
    assert_eq!(conversations, 2, "nothing of the bad file was imported");
    assert_eq!(uploads().len(), 1, "a failed import leaves no file behind");
    // Two files in one form: refused, nothing left behind.
    let (content_type, body) = multipart("jsonl", "one.jsonl", good);
    let second = "--garden-eden-test-boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"two.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--garden-eden-test-boundary--\r\n";
    let body = body.replace("--garden-eden-test-boundary--\r\n", second);
    let res = client().post(server.url("/import/upload")).header("origin", server.origin()).header("content-type", content_type).body(body).send().await.unwrap();
    assert!(res.headers()["location"].to_str().unwrap().contains("one%20file"), "{:?}", res.headers()["location"]);
    assert_eq!(uploads().len(), 1, "the refused upload left nothing behind");

    // A cross-origin upload is refused before anything is read.
    let (content_type, body) = multipart("jsonl", "x.jsonl", good);
    let res = client()
        .post(server.url("/import/upload"))
        .header("origin", "http://evil.example")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_views_from_elsewhere_start_no_process_and_checks_run_once_at_a_time() {
    use std::os::unix::fs::PermissionsExt;
    // A "Python" that records each time it is started.
    let tools = tempfile::tempdir().unwrap();
    let marker = tools.path().join("started");
    let python = tools.path().join("python");
    std::fs::write(&python, format!("#!/bin/sh\necho started >> '{}'\nexit 1\n", marker.display())).unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = TestServer::start_with(|s| s.python = Some(python.clone())).await;
    let started = || std::fs::read_to_string(&marker).map(|t| t.lines().count()).unwrap_or(0);

    // 30 page views that another site triggers (a link, an iframe, an <img>): none runs the checks.
    let cross: Vec<_> = (0..30)
        .map(|_| client().get(server.url("/")).header("sec-fetch-site", "cross-site").send())
        .collect();
    for res in futures_util::future::join_all(cross).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    assert_eq!(started(), 0, "a cross-site GET / started a process");

    // 10 views of one's own at once: the checks run once (the Python probe and the extras probe).
    let own: Vec<_> = (0..10).map(|_| client().get(server.url("/")).send()).collect();
    for res in futures_util::future::join_all(own).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    assert!((1..=2).contains(&started()), "{} Python starts for 10 page views", started());
    server.stop().await;
}

#[tokio::test]
async fn viewing_pages_writes_nothing() {
    use garden_core::adapters::{self, safetensors::Dtype, synthetic};
    let server = TestServer::start().await;
    let folder = server.studio.settings().data_dir.join("incoming/a1");
    synthetic::write_adapter(&folder, "Qwen/Qwen2.5-0.5B", synthetic::Dims::TINY, 4, 8.0, &["q_proj"], Dtype::F32, 1).unwrap();
    let a = server
        .studio
        .db()
        .with_conn(|c| adapters::register(c, adapters::NewAdapter { name: "eden".into(), path: folder.clone(), ..Default::default() }))
        .unwrap();
    server.studio.db().with_conn(|c| adapters::activate(c, &a.id, "test")).unwrap();
    let endpoints = || server.studio.db().with_conn(|c| Ok(garden_core::infer::endpoints(c)?.len())).unwrap();
    let before = endpoints();
    for path in [format!("/adapters/{}", a.id), format!("/adapters/{}/Modelfile", a.id), "/chat".to_owned()] {
        let res = client().get(server.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        if path.ends_with("Modelfile") {
            assert!(res.text().await.unwrap().contains("ADAPTER"), "the Modelfile is still shown");
        }
    }
    let work = adapters::deploy::work_dir(&server.studio, &a.id);
    assert!(!work.join("Modelfile").exists(), "a GET wrote {}", work.display());
    assert_eq!(endpoints(), before, "a GET added a model");
    server.stop().await;
}
