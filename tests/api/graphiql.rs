//! GraphiQL served from the binary under a same-origin content security policy.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::helpers::{header, spawn_app};

#[tokio::test]
async fn graphiql_is_served_from_the_binary_under_a_same_origin_content_security_policy() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(format!("{}/graphql", app.address))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = header(&page, "content-security-policy")
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.contains("default-src 'self'") && policy.contains("script-src 'self'"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from elsewhere: {html}"
    );
    for (asset, kind) in [
        ("/graphiql/3.8.3/graphiql.min.js", "text/javascript"),
        ("/graphiql/3.8.3/graphiql.min.css", "text/css"),
        ("/graphiql/3.8.3/react.production.min.js", "text/javascript"),
        (
            "/graphiql/3.8.3/react-dom.production.min.js",
            "text/javascript",
        ),
        ("/graphiql/page.js", "text/javascript"),
    ] {
        assert!(html.contains(asset), "{asset} is not on the page");
        let response = app
            .client
            .get(format!("{}{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(
            header(&response, CONTENT_TYPE.as_str())
                .unwrap_or_default()
                .starts_with(kind)
        );
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let missing = app
        .client
        .get(format!("{}/graphiql/../Cargo.toml", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
