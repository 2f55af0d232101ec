//! Bulk API 2.0 query job results: CSV exactness against the REST query of the same SOQL, paging
//! by locator, gzip, delimiters and line endings, `resultPages` in both shapes
//! [bulk-and-parallel.md §1.4, §1.5, §1.7].
mod common;
use common::bulk::*;
use serde_json::{Value, json};
use sf_org_emulator::EmulatorConfig;

fn small() -> EmulatorConfig {
    EmulatorConfig { contacts: 300, deals: 120, notes: 90, ..EmulatorConfig::default() }
}

/// Parse every page, check each has the same header, and compare row by row with REST's JSON.
async fn assert_same_as_rest(o: &Org, soql: &str, pages: &[String], delimiter: u8) -> Vec<Vec<String>> {
    let rest = rest_records(o, soql).await;
    let mut header0: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for p in pages {
        let (h, r) = parse_csv(p, delimiter);
        if let Some(h0) = &header0 {
            assert_eq!(&h, h0, "every page starts with the same header");
        }
        header0 = Some(h);
        rows.extend(r);
    }
    let header = header0.expect("a page");
    assert_eq!(rows.len(), rest.len(), "{soql}");
    for (i, (row, rec)) in rows.iter().zip(&rest).enumerate() {
        let want: Vec<String> = header.iter().map(|h| expected_cell(rec, h)).collect();
        assert_eq!(row, &want, "{soql}: row {i}");
    }
    rows
}

#[tokio::test]
async fn csv_equals_the_rest_query_of_the_same_soql() {
    let o = org(small()).await;
    instant(&o);
    let cases = [
        // Parents (and null parents), numbers, dates, booleans, dateTimes.
        "SELECT Id, Name, Amount, CloseDate, StageName, Probability, IsClosed, Account.Name, Owner.Alias, CreatedDate FROM Opportunity",
        // Embedded newlines, CRLF, quotes, backslashes, emoji and other unicode; a polymorphic parent.
        "SELECT Id, Title, Body, IsPrivate, Parent.Name, Parent.Type FROM Note",
        // Nulls, unicode names, a street with a newline, two levels of parents.
        "SELECT Id, FirstName, LastName, Title, Email, MailingStreet, MailingCity, Account.Name, Account.Owner.Email FROM Contact WHERE LastName != null",
    ];
    for soql in cases {
        let id = create(&o, "v60.0", soql, json!({})).await;
        let pages = all_pages(&o, "v60.0", &id, Some(70)).await;
        assert!(pages.len() > 1, "{soql}: several pages");
        let rows = assert_same_as_rest(&o, soql, &pages, b',').await;
        assert!(rows.iter().flatten().any(|c| c.is_empty()), "{soql}: some null cells");
    }
    // The values that make CSV hard really are there: 18 significant digits, newlines, emoji.
    let id = create(&o, "v60.0", "SELECT Amount FROM Opportunity", json!({})).await;
    let (_, amounts) = parse_csv(&all_pages(&o, "v60.0", &id, None).await.concat(), b',');
    assert!(amounts.iter().any(|r| r[0].len() == 19 && r[0].as_bytes()[16] == b'.'), "18-digit amounts keep every digit");
    let id = create(&o, "v60.0", cases[1], json!({})).await;
    let text = all_pages(&o, "v60.0", &id, None).await.concat();
    assert!(text.contains("\"Line one\nLine two\r\n\tIndented \"\"quoted\"\" text with a backslash \\ and a tab.\""), "{text}");
    assert!(text.contains('🎉') && text.contains("日本語"));
}

#[tokio::test]
async fn page_shape_headers_and_quoting() {
    let o = org(small()).await;
    instant(&o);
    let id = create(&o, "v60.0", "SELECT Id, Name, Amount, CloseDate, Account.Name, CreatedDate FROM Opportunity WHERE Account.Name = null", json!({})).await;
    let r = results(&o, "v60.0", &id, "?maxRecords=2", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "text/csv");
    assert_eq!(r.header("sforce-numberofrecords"), "2");
    assert_eq!(r.header("sforce-locator"), "Mg", "base64 of the next offset, without padding");
    assert!(r.header("sforce-limit-info").starts_with("api-usage="));
    let text = r.text();
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines[0], "\"Id\",\"Name\",\"Amount\",\"CloseDate\",\"Account.Name\",\"CreatedDate\"");
    assert_eq!(lines.len(), 4, "header, 2 rows, and the final LF");
    assert_eq!(lines[3], "");
    // Every non-null value quoted; the null parent's column is empty and unquoted; dateTimes in Z form.
    let cells: Vec<&str> = lines[1].split(',').collect();
    assert!(cells[0].starts_with("\"006") && cells[0].len() == 20, "{}", lines[1]);
    assert_eq!(cells[4], "");
    assert!(cells[5].ends_with("Z\"") && cells[5].len() == 26, "{}", lines[1]);
    // A locator can be fetched again: the same page.
    let a = results(&o, "v60.0", &id, "?locator=Mg&maxRecords=2", &[]).await;
    let b = results(&o, "v60.0", &id, "?locator=Mg&maxRecords=2", &[]).await;
    assert_eq!(a.body, b.body);
    assert_ne!(a.body, r.body);
}

#[tokio::test]
async fn the_last_page_says_null_and_page_sizes_add_up() {
    let o = org(small()).await;
    instant(&o);
    let id = create(&o, "v60.0", "SELECT Id FROM Contact", json!({})).await;
    let mut locator = String::new();
    let mut counts = Vec::new();
    loop {
        let q = if locator.is_empty() { "?maxRecords=128".to_string() } else { format!("?maxRecords=128&locator={locator}") };
        let r = results(&o, "v60.0", &id, &q, &[]).await;
        let n: usize = r.header("sforce-numberofrecords").parse().unwrap();
        assert_eq!(parse_csv(&r.text(), b',').1.len(), n);
        counts.push(n);
        locator = r.header("sforce-locator").to_string();
        if locator == "null" {
            break;
        }
    }
    assert_eq!(counts, [128, 128, 44]);
    // Without maxRecords the default page (50,000 rows) holds everything.
    let r = results(&o, "v60.0", &id, "", &[]).await;
    assert_eq!((r.header("sforce-numberofrecords"), r.header("sforce-locator")), ("300", "null"));
    // Bad arguments.
    assert_eq!(results(&o, "v60.0", &id, "?maxRecords=0", &[]).await.status, 400);
    assert_eq!(results(&o, "v60.0", &id, "?locator=bm9wZQ", &[]).await.error().1, "INVALID_QUERY_LOCATOR");
    assert_eq!(results(&o, "v60.0", &id, "?locator=null", &[]).await.error().1, "INVALID_QUERY_LOCATOR", "the end marker is not a locator");
    assert_eq!(results(&o, "v60.0", &id, "?locator=MzAw", &[]).await.status, 400, "the offset past the last row");
}

#[tokio::test]
async fn delimiters_and_line_endings() {
    let o = org(small()).await;
    instant(&o);
    let soql = "SELECT Id, Title, Body, Parent.Name FROM Note";
    for (name, byte) in [("TAB", b'\t'), ("PIPE", b'|'), ("SEMICOLON", b';'), ("CARET", b'^'), ("BACKQUOTE", b'`')] {
        let id = create(&o, "v60.0", soql, json!({"columnDelimiter": name, "lineEnding": "CRLF"})).await;
        assert_eq!(poll(&o, "v60.0", &id).await["columnDelimiter"], name);
        let text = all_pages(&o, "v60.0", &id, None).await.concat();
        let d = byte as char;
        assert!(text.starts_with(&format!("\"Id\"{d}\"Title\"{d}\"Body\"{d}\"Parent.Name\"\r\n")), "{name}: {}", &text[..60]);
        assert!(text.ends_with("\r\n"));
        assert_same_as_rest(&o, soql, &[text], byte).await;
    }
    // Minimal quoting: plain values bare, values with the delimiter, quotes or newlines quoted.
    o.emu.control().update_bulk_settings(&json!({"quoting": "minimal", "datetime": "offset"})).unwrap();
    let id = create(&o, "v60.0", "SELECT Id, Body, CreatedDate FROM Note", json!({})).await;
    let text = all_pages(&o, "v60.0", &id, None).await.concat();
    assert!(text.starts_with("Id,Body,CreatedDate\n002"), "{}", &text[..40]);
    assert!(text.contains(",\"Line one\nLine two"));
    let (_, rows) = parse_csv(&text, b',');
    assert!(rows[0][2].ends_with("+0000"), "{:?}", rows[0]);
}

#[tokio::test]
async fn gzip_when_asked_always_or_never() {
    let o = org(small()).await;
    instant(&o);
    let id = create(&o, "v60.0", "SELECT Id, Name, Account.Name FROM Contact", json!({})).await;
    let plain = results(&o, "v60.0", &id, "", &[]).await;
    assert!(plain.headers.get("content-encoding").is_none());
    let gz = results(&o, "v60.0", &id, "", &[("accept-encoding", "gzip, deflate")]).await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert!(gz.body.len() < plain.body.len() / 2, "{} vs {}", gz.body.len(), plain.body.len());
    assert_eq!(gunzip(&gz.body), plain.body);
    assert_eq!(gz.header("sforce-numberofrecords"), "300");
    o.emu.control().update_bulk_settings(&json!({"gzip": "always"})).unwrap();
    let always = results(&o, "v60.0", &id, "", &[]).await;
    assert_eq!(always.header("content-encoding"), "gzip");
    assert_eq!(gunzip(&always.body), plain.body);
    o.emu.control().update_bulk_settings(&json!({"gzip": "never"})).unwrap();
    let never = results(&o, "v60.0", &id, "", &[("accept-encoding", "gzip")]).await;
    assert!(never.headers.get("content-encoding").is_none());
    assert_eq!(never.body, plain.body);
}

/// Follow `resultPages` to the end; the result URLs, relative to the instance.
async fn result_urls(o: &Org, first: &str) -> (Vec<String>, usize) {
    let mut urls = Vec::new();
    let mut next = Some(first.to_string());
    let mut calls = 0;
    while let Some(path) = next {
        let r = send(o, reqwest::Method::GET, &path, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text());
        calls += 1;
        let v = r.json();
        let (list, key) = if v.get("resultPages").is_some() { ("resultPages", "resultUrl") } else { ("resultChunks", "resultLink") };
        let items = v[list].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 5);
        for it in items {
            let u = it[key].as_str().unwrap();
            urls.push(if key == "resultLink" { format!("/services/data/v60.0{u}") } else { u.to_string() });
        }
        next = v["nextRecordsUrl"].as_str().map(|n| if key == "resultLink" { format!("/services/data/v60.0{n}") } else { n.to_string() });
        assert_eq!(v["done"], next.is_none());
    }
    (urls, calls)
}

#[tokio::test]
async fn result_pages_in_both_shapes() {
    let o = org(small()).await;
    instant(&o);
    let soql = "SELECT Id, Name, Account.Name FROM Contact";
    let id = create(&o, "v60.0", soql, json!({})).await;
    let serial = all_pages(&o, "v60.0", &id, Some(25)).await;
    for shape in ["result_pages", "result_chunks"] {
        o.emu.control().update_bulk_settings(&json!({"result_pages_shape": shape})).unwrap();
        let (urls, calls) = result_urls(&o, &format!("/services/data/v60.0/jobs/query/{id}/resultPages?maxRecords=25")).await;
        assert_eq!((urls.len(), calls), (12, 3), "{shape}: 300 rows / 25 = 12 pages, 5 per call");
        assert!(urls[0].ends_with("/results?maxRecords=25"), "{}", urls[0]);
        assert!(urls[1].ends_with("/results?locator=MjU&maxRecords=25"), "{}", urls[1]);
        let mut pages = Vec::new();
        for u in &urls {
            let r = send(&o, reqwest::Method::GET, u, None, &[]).await;
            assert_eq!(r.status, 200);
            pages.push(r.text());
        }
        assert_eq!(pages, serial, "{shape}: the same pages as the locator loop");
        assert_same_as_rest(&o, soql, &pages, b',').await;
    }
    // The documented shape, exactly.
    o.emu.control().update_bulk_settings(&json!({"result_pages_shape": "result_pages", "default_max_records": 100})).unwrap();
    let v = send(&o, reqwest::Method::GET, &format!("/services/data/v60.0/jobs/query/{id}/resultPages"), None, &[]).await.json();
    let want: Value = json!({
        "resultPages": [
            {"resultUrl": format!("/services/data/v60.0/jobs/query/{id}/results")},
            {"resultUrl": format!("/services/data/v60.0/jobs/query/{id}/results?locator=MTAw")},
            {"resultUrl": format!("/services/data/v60.0/jobs/query/{id}/results?locator=MjAw")},
        ],
        "nextRecordsUrl": null,
        "done": true,
    });
    assert_eq!(v, want);
    // Before v58 the resource does not exist.
    let id57 = create(&o, "v57.0", soql, json!({})).await;
    let r = send(&o, reqwest::Method::GET, &format!("/services/data/v57.0/jobs/query/{id57}/resultPages"), None, &[]).await;
    assert_eq!(r.error().1, "NOT_FOUND");
}

#[tokio::test]
async fn old_versions_use_numeric_locators_and_alphabetical_columns() {
    let o = org(small()).await;
    instant(&o);
    let id = create(&o, "v48.0", "SELECT Name, Id, Account.Name FROM Contact", json!({})).await;
    let r = results(&o, "v48.0", &id, "?maxRecords=100", &[]).await;
    assert_eq!(r.header("sforce-locator"), "100");
    assert!(r.text().starts_with("\"Account.Name\",\"Id\",\"Name\"\n"), "{}", &r.text()[..40]);
    let id = create(&o, "v50.0", "SELECT Name, Id FROM Contact", json!({})).await;
    assert!(results(&o, "v50.0", &id, "", &[]).await.text().starts_with("\"Name\",\"Id\"\n"));
    // Bulk 2.0 query starts at v47.
    assert_eq!(create_raw(&o, "v46.0", json!({"operation": "query", "query": "SELECT Id FROM Contact"})).await.status, 404);
}

#[tokio::test]
async fn empty_result_is_a_header_only_page() {
    let o = org(small()).await;
    instant(&o);
    let id = create(&o, "v60.0", "SELECT Id, Name FROM Contact WHERE Name = 'nobody at all'", json!({})).await;
    let r = results(&o, "v60.0", &id, "", &[]).await;
    assert_eq!((r.header("sforce-numberofrecords"), r.header("sforce-locator")), ("0", "null"));
    assert_eq!(r.text(), "\"Id\",\"Name\"\n");
}

#[tokio::test]
async fn wide_object_every_field_type() {
    let o = org(EmulatorConfig { wide_rows: 120, ..small() }).await;
    instant(&o);
    let d: Value = common::api(&o.base, "/services/data/v60.0/sobjects/Wide_Object__c/describe", &o.token).await.json().await.unwrap();
    let fields: Vec<String> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !matches!(f["type"].as_str(), Some("location" | "address")))
        .take(40)
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    let soql = format!("SELECT {}, Owner.Name FROM Wide_Object__c", fields.join(", "));
    let id = create(&o, "v60.0", &soql, json!({})).await;
    let pages = all_pages(&o, "v60.0", &id, Some(50)).await;
    let rows = assert_same_as_rest(&o, &soql, &pages, b',').await;
    assert!(rows.iter().flatten().any(|c| c.contains("«détails» ✓ \"quoted\" and a tab\there.\n")));
    // The compound field itself is refused; its components are not.
    let r = create_raw(&o, "v60.0", json!({"operation": "query", "query": "SELECT Location__c FROM Wide_Object__c"})).await;
    assert_eq!(r.error().2, "Selecting compound data not supported in Bulk Query");
    create(&o, "v60.0", "SELECT Location__Latitude__s, Location__Longitude__s FROM Wide_Object__c", json!({})).await;
}

#[tokio::test]
async fn query_all_includes_soft_deleted_rows_like_rest() {
    let o = org(small()).await;
    instant(&o);
    let deleted = o.emu.control().delete(sf_org_emulator::SObject::Contact, 7);
    let soql = "SELECT Id, IsDeleted, LastName FROM Contact";
    let id = create(&o, "v60.0", soql, json!({"operation": "queryAll"})).await;
    let (_, rows) = parse_csv(&all_pages(&o, "v60.0", &id, None).await.concat(), b',');
    assert_eq!(rows.len(), 300);
    assert_eq!(rows.iter().filter(|r| r[1] == "true").count(), 7);
    assert!(deleted.iter().all(|d| rows.iter().any(|r| &r[0] == d)));
    let id = create(&o, "v60.0", soql, json!({})).await;
    let pages = all_pages(&o, "v60.0", &id, None).await;
    assert_eq!(assert_same_as_rest(&o, soql, &pages, b',').await.len(), 293);
}
