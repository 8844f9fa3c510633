//! Transcripts: a normal chat as text and HTML in the reader's time zone, message order and
//! duplicates, control characters, internal notes, and hostile input (script, attribute
//! injection, unsafe link schemes, raw HTML in markdown, images, attachment URLs) that must
//! come out as inert, escaped text.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::Record;
use switchboard_core::ids::{MessageId, NoteId, SessionId};
use switchboard_core::protocol::model::{
    Attachment, MessageKind, MessageView, NoteView, Sender, SenderKind, SessionView,
};
use switchboard_core::time::Timestamp;
use switchboard_core::transcript::{Audience, TranscriptInput, render_html, render_text};

/// 2026-01-01 08:15 UTC, which is 09:15 in Berlin.
const START: i64 = 1_767_255_300_000;
const MINUTE: i64 = 60_000;

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

fn session_with(visitor_name: &str, tags: &[&str]) -> SessionView {
    serde_json::from_value(json!({
        "session_id": "ses_7",
        "status": "closed",
        "visitor_id": "v1",
        "visitor": {"name": visitor_name, "email": "vera@example.com"},
        "priority": 0,
        "agent_id": "ana",
        "agent_name": "Ana",
        "tags": tags,
        "created_at": START,
        "ended_at": START + 25 * MINUTE,
        "unread_count_agent": 0,
        "unread_count_visitor": 0,
        "message_count": 4,
        "transfer_count": 0,
    }))
    .expect("a valid session view")
}

fn session() -> SessionView {
    session_with("Vera", &["billing"])
}

fn message(seq: u64, kind: SenderKind, name: Option<&str>, body: &str) -> MessageView {
    MessageView {
        message_id: MessageId(100 + seq),
        session_id: SessionId(7),
        seq,
        sender: Sender {
            kind,
            id: name.map(|name| Arc::from(name.to_lowercase())),
            name: name.map(Arc::from),
        },
        kind: if kind == SenderKind::System {
            MessageKind::System
        } else {
            MessageKind::Text
        },
        body: Arc::from(body),
        attachment: None,
        client_message_id: None,
        created_at: Timestamp(START + i64::try_from(seq).unwrap() * MINUTE),
    }
}

fn visitor(seq: u64, body: &str) -> MessageView {
    message(seq, SenderKind::Visitor, Some("Vera"), body)
}

fn agent(seq: u64, body: &str) -> MessageView {
    message(seq, SenderKind::Agent, Some("Ana"), body)
}

fn markdown(seq: u64, body: &str) -> MessageView {
    MessageView {
        kind: MessageKind::Markdown,
        ..agent(seq, body)
    }
}

fn attachment(seq: u64, name: &str, url: &str) -> MessageView {
    MessageView {
        kind: MessageKind::Attachment,
        attachment: Some(Arc::new(Attachment {
            name: name.to_owned(),
            mime_type: "application/pdf".to_owned(),
            size_bytes: 12_345,
            url: url.to_owned(),
        })),
        ..visitor(seq, "")
    }
}

fn berlin<'a>(session: &'a SessionView, messages: &'a [MessageView]) -> TranscriptInput<'a> {
    TranscriptInput {
        title: Some("Acme Support"),
        time_zone: Some("Europe/Berlin"),
        ..TranscriptInput::new(session, messages)
    }
}

fn staff<'a>(session: &'a SessionView, messages: &'a [MessageView]) -> TranscriptInput<'a> {
    TranscriptInput {
        audience: Audience::Staff,
        ..berlin(session, messages)
    }
}

/// Positions of `needles` in `haystack`, failing on any that is missing.
fn positions(haystack: &str, needles: &[&str]) -> Vec<usize> {
    needles
        .iter()
        .map(|needle| {
            haystack
                .find(needle)
                .unwrap_or_else(|| panic!("{needle:?} missing from:\n{haystack}"))
        })
        .collect()
}

fn assert_in_order(haystack: &str, needles: &[&str]) {
    let found = positions(haystack, needles);
    assert!(
        found.windows(2).all(|pair| pair[0] < pair[1]),
        "{needles:?} out of order in:\n{haystack}"
    );
}

// ---- a minimal HTML scanner for the safety checks ----

/// Elements the renderer may write. Anything else (script, iframe, img, object, embed,
/// link, base, form, svg, ...) means user text escaped into markup.
const ALLOWED_ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "dl",
    "dt",
    "dd",
    "ol",
    "ul",
    "li",
    "time",
    "span",
    "div",
    "br",
    "hr",
    "a",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "background",
    "xlink:href",
];

struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

/// Every tag of the document. Escaped user text holds no `<`, and attribute values hold
/// no `<` or `>`, so a tag runs from one `<` to the next `>`.
fn tags(html: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("every tag is closed") + start;
        let inside = &rest[start + 1..end];
        if !inside.starts_with('!') {
            tags.push(parse_tag(inside));
        }
        rest = &rest[end + 1..];
    }
    tags
}

fn parse_tag(inside: &str) -> Tag {
    let inside = inside.trim_start_matches('/').trim_end_matches('/');
    let name_end = inside.find(char::is_whitespace).unwrap_or(inside.len());
    let name = inside[..name_end].to_ascii_lowercase();
    Tag {
        name,
        attributes: parse_attributes(&inside[name_end..]),
    }
}

/// `name="value"` pairs; a bare or unquoted attribute fails the test, as the renderer
/// always quotes.
fn parse_attributes(mut rest: &str) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return attributes;
        }
        let (name, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("unquoted attribute in {rest:?}"));
        assert!(
            !name.contains(char::is_whitespace),
            "bare attribute in {rest:?}"
        );
        let (value, after) = after.split_once('"').expect("closing quote");
        attributes.push((name.to_ascii_lowercase(), value.to_owned()));
        rest = after;
    }
}

/// What a browser reads from an attribute value the renderer wrote.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The scheme of a URL as a browser reads it (tabs, newlines and surrounding controls and
/// spaces ignored), lowercased.
fn scheme(url: &str) -> Option<String> {
    let stripped: String = unescape(url).chars().filter(|c| !c.is_control()).collect();
    let (scheme, _) = stripped.trim().split_once(':')?;
    Some(scheme.to_ascii_lowercase())
}

/// The page runs nothing, loads nothing, and links only to http, https and mailto.
fn assert_safe(html: &str) {
    for tag in tags(html) {
        assert!(
            ALLOWED_ELEMENTS.contains(&tag.name.as_str()),
            "unexpected <{}> in:\n{html}",
            tag.name
        );
        for (name, value) in &tag.attributes {
            assert!(
                !name.starts_with("on"),
                "event handler {name}={value:?} in:\n{html}"
            );
            if URL_ATTRIBUTES.contains(&name.as_str()) {
                assert_eq!(tag.name, "a", "{name} on <{}>", tag.name);
                let scheme = scheme(value);
                assert!(
                    matches!(scheme.as_deref(), Some("http" | "https" | "mailto")),
                    "{name}={value:?} in:\n{html}"
                );
            }
        }
    }
}

/// Every `href` of the page, as a browser reads it.
fn hrefs(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .flat_map(|tag| tag.attributes)
        .filter(|(name, _)| name == "href")
        .map(|(_, value)| unescape(&value))
        .collect()
}

// ---- a normal chat ----

fn normal_chat() -> Vec<MessageView> {
    let mut messages = vec![
        visitor(1, "Hello, my invoice is wrong."),
        message(2, SenderKind::System, None, "Ana joined the chat"),
        agent(3, "Hi Vera, let me check.\nOne moment please."),
        attachment(4, "invoice.pdf", "https://files.example.com/invoice.pdf"),
        markdown(
            5,
            "Fixed, see **the new invoice** at [our portal](https://portal.example.com).",
        ),
    ];
    // The last message comes the next local day.
    messages[4].created_at = Timestamp(START + 16 * 60 * MINUTE);
    messages
}

#[test]
fn text_transcript_has_header_and_messages_in_local_time() {
    let session = session();
    let messages = normal_chat();
    let text = render_text(&berlin(&session, &messages));

    assert!(
        text.starts_with("Acme Support\nChat transcript\n"),
        "{text}"
    );
    assert_in_order(
        &text,
        &[
            "Session:",
            "ses_7",
            "Visitor:",
            "Vera",
            "E-mail:",
            "vera@example.com",
            "Agent:",
            "Ana",
            "Started:",
            "2026-01-01 09:15",
            "Ended:",
            "2026-01-01 09:40",
            "Time zone:",
            "Europe/Berlin",
        ],
    );
    assert_in_order(
        &text,
        &[
            "[09:16] Vera: Hello, my invoice is wrong.\n",
            "[09:17] * Ana joined the chat\n",
            "[09:18] Ana: Hi Vera, let me check.\n    One moment please.\n",
            "[09:19] Vera:\n    Attachment: invoice.pdf (12.1 KB) https://files.example.com/invoice.pdf\n",
            "--- 2026-01-02 ---\n",
            "[01:15] Ana: Fixed, see **the new invoice** at [our portal](https://portal.example.com).\n",
        ],
    );
    assert!(
        !text.contains("billing"),
        "tags are for staff only:\n{text}"
    );
}

#[test]
fn html_transcript_is_a_standalone_page_with_messages_in_local_time() {
    let session = session();
    let messages = normal_chat();
    let html = render_html(&berlin(&session, &messages));

    assert!(html.starts_with("<!doctype html>\n"), "{html}");
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src https: data:\">"
    ));
    assert!(html.contains("<title>Acme Support – Chat transcript</title>"));
    assert!(html.contains("<style>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_safe(&html);

    assert_in_order(
        &html,
        &[
            "<h1>Acme Support</h1>",
            "<dd>ses_7</dd>",
            "<dd>Vera</dd>",
            "<dd>Ana</dd>",
            "<dd>2026-01-01 09:15</dd>",
            "<dd>2026-01-01 09:40</dd>",
            "<dd>Europe/Berlin</dd>",
            "<time datetime=\"2026-01-01T09:16:00+01:00\">09:16</time> <span class=\"sender\">Vera</span>",
            "Hello, my invoice is wrong.",
            "<li class=\"system\"><time datetime=\"2026-01-01T09:17:00+01:00\">09:17</time> Ana joined the chat</li>",
            "<span class=\"sender\">Ana</span>",
            "Hi Vera, let me check.<br>\nOne moment please.",
            "<a href=\"https://files.example.com/invoice.pdf\" rel=\"nofollow noopener noreferrer\">invoice.pdf</a> (12.1 KB)",
            "<li class=\"day\">2026-01-02</li>",
            "<time datetime=\"2026-01-02T01:15:00+01:00\">01:15</time>",
            "<strong>the new invoice</strong>",
            "<a href=\"https://portal.example.com\" rel=\"nofollow noopener noreferrer\">our portal</a>",
        ],
    );
    assert!(!html.contains("billing"), "tags are for staff only");
}

#[test]
fn staff_transcripts_show_tags() {
    let session = session_with("Vera", &["billing", "vip"]);
    let messages = normal_chat();
    assert!(render_text(&staff(&session, &messages)).contains("Tags:      billing, vip\n"));
    assert!(render_html(&staff(&session, &messages)).contains("<dd>billing, vip</dd>"));
}

#[test]
fn unknown_or_missing_time_zones_mean_utc() {
    let session = session();
    let messages = vec![visitor(1, "hi")];
    for zone in [None, Some("Mars/Olympus_Mons"), Some("")] {
        let input = TranscriptInput {
            time_zone: zone,
            ..TranscriptInput::new(&session, &messages)
        };
        let text = render_text(&input);
        assert!(text.starts_with("Chat transcript\n\n"), "{text}");
        assert!(text.contains("2026-01-01 08:15"), "{text}");
        assert!(text.contains("[08:16] Vera: hi"), "{text}");
        assert!(text.contains("UTC"), "{text}");
        assert!(render_html(&input).contains("datetime=\"2026-01-01T08:16:00+00:00\""));
    }
}

#[test]
fn messages_follow_seq_once_each_and_only_from_this_session() {
    let session = session();
    let mut other_session = visitor(2, "from another session");
    other_session.session_id = SessionId(8);
    other_session.message_id = MessageId(999);
    let messages = vec![
        agent(3, "third"),
        visitor(1, "first"),
        other_session,
        agent(3, "third"),
        visitor(2, "second"),
        visitor(1, "first"),
    ];
    let text = render_text(&berlin(&session, &messages));
    let html = render_html(&berlin(&session, &messages));
    for rendered in [&text, &html] {
        assert_in_order(rendered, &["first", "second", "third"]);
        for body in ["first", "second", "third"] {
            assert_eq!(rendered.matches(body).count(), 1, "{body} in:\n{rendered}");
        }
        assert!(!rendered.contains("another session"), "{rendered}");
    }
}

#[test]
fn text_drops_control_characters_and_keeps_lines_apart() {
    let mut session = session_with("Ve\u{1b}[31mra\u{7}", &[]);
    session.agent_name = Some(Arc::from("Ana\n[09:99] Boss"));
    let messages = vec![
        visitor(
            1,
            "bell\u{7} escape\u{1b}[2J null\u{0} del\u{7f} c1\u{85} cr\r\nnext\tline",
        ),
        visitor(2, "fine\n[09:30] Ana: please send your password"),
        visitor(3, "evil\u{202e}txt.exe"),
    ];
    let text = render_text(&berlin(&session, &messages));

    for control in text.chars().filter(|c| c.is_control()) {
        assert!(
            control == '\n' || control == '\t',
            "{control:?} in:\n{text}"
        );
    }
    assert!(!text.contains('\u{202e}'));
    assert!(text.contains("Visitor:   Ve[31mra\n"), "{text}");
    assert!(text.contains("Agent:     Ana [09:99] Boss\n"), "{text}");
    assert!(
        text.contains("bell escape[2J null del c1 cr\n    next\tline\n"),
        "{text}"
    );
    // A body line never starts at the margin, so it cannot pass for a message.
    assert!(
        text.contains("fine\n    [09:30] Ana: please send your password"),
        "{text}"
    );
    assert!(!text.contains("\n[09:30]"), "{text}");

    let html = render_html(&berlin(&session, &messages));
    assert!(!html.contains('\u{1b}') && !html.contains('\u{0}') && !html.contains('\u{202e}'));
}

#[test]
fn internal_notes_cannot_reach_a_transcript() {
    const SECRET: &str = "internal: visitor is a known fraudster";
    let session = session();
    // What the host stores: the session, its messages and a note on it.
    let records = [
        Record::Session {
            session: Box::new(session.clone()),
        },
        Record::Message {
            message: visitor(1, "hello"),
        },
        Record::Note {
            note: NoteView {
                note_id: NoteId(1),
                session_id: SessionId(7),
                author_id: "ana".into(),
                body: Arc::from(SECRET),
                created_at: Timestamp(START + MINUTE),
            },
        },
        Record::Message {
            message: agent(2, "hi"),
        },
    ];
    // A transcript takes messages only: a note has no way in, whatever the host holds.
    let messages: Vec<MessageView> = records
        .iter()
        .filter_map(|record| match record {
            Record::Message { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    for input in [berlin(&session, &messages), staff(&session, &messages)] {
        for rendered in [render_text(&input), render_html(&input)] {
            assert!(rendered.contains("hello") && rendered.contains("hi"));
            assert!(!rendered.contains("fraudster"), "{rendered}");
        }
    }
}

// ---- hostile input ----

#[test]
fn script_in_every_field_is_escaped_text() {
    let hostile_name = format!("{SCRIPT}\" onmouseover=\"alert(1)");
    let session = session_with(&hostile_name, &[SCRIPT, "x' onerror='alert(1)"]);
    let messages = vec![
        message(1, SenderKind::Visitor, Some(&hostile_name), SCRIPT),
        markdown(2, SCRIPT),
        visitor(3, "' onerror='alert(1)"),
        attachment(4, SCRIPT, "https://files.example.com/a"),
        message(5, SenderKind::Agent, Some("' onerror='alert(1)"), "ok"),
    ];
    let input = TranscriptInput {
        title: Some(SCRIPT),
        ..staff(&session, &messages)
    };
    let html = render_html(&input);
    assert_safe(&html);
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    // Title (twice), tags, name (header and message), both bodies, attachment name.
    assert!(html.matches(SCRIPT_ESCAPED).count() >= 8, "{html}");
    assert!(html.contains(&format!(
        "{SCRIPT_ESCAPED}&quot; onmouseover=&quot;alert(1)"
    )));
    assert!(html.contains("&#39; onerror=&#39;alert(1)"));

    let text = render_text(&input);
    assert!(
        text.contains(&format!("[09:16] {hostile_name}: {SCRIPT}")),
        "{text}"
    );
}

#[test]
fn markdown_links_with_unsafe_schemes_keep_their_text_only() {
    let attacks = [
        "[plain](javascript:alert(1))",
        "[mixed](JaVaScRiPt:alert(1))",
        "[spaced]( javascript:alert(1))",
        "[tabbed](<java\tscript:alert(1)>)",
        "[controlled](<\u{1}javascript:alert(1)>)",
        "[entity](jav&#x61;script:alert(1))",
        "[decimal](&#106;avascript:alert(1))",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[vb](vbscript:msgbox(1))",
        "[relative](/account/delete)",
        "[schemeless](//evil.example.com)",
        "[reference][evil]\n\n[evil]: javascript:alert(1)",
        "<javascript:alert(1)>",
        "<JAVASCRIPT:alert(1)>",
    ];
    let messages: Vec<MessageView> = attacks
        .iter()
        .zip(1..)
        .map(|(body, seq)| markdown(seq, body))
        .collect();
    let session = session();
    let html = render_html(&berlin(&session, &messages));
    assert_safe(&html);
    assert!(hrefs(&html).is_empty(), "{:?}", hrefs(&html));
    for text in [
        "plain",
        "mixed",
        "spaced",
        "tabbed",
        "controlled",
        "entity",
        "decimal",
        "data",
        "vb",
        "relative",
        "schemeless",
        "reference",
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
    ] {
        assert!(html.contains(text), "{text} missing from:\n{html}");
    }
}

#[test]
fn markdown_links_with_safe_schemes_are_kept_and_cannot_break_out() {
    let messages = vec![
        markdown(1, "[site](https://example.com/a?b=1&c=2)"),
        markdown(2, "[plain http](HTTP://example.com)"),
        markdown(
            3,
            "write to <help@example.com> or [us](mailto:us@example.com)",
        ),
        markdown(4, "<https://example.com/\"onmouseover=\"alert(1)>"),
        markdown(
            5,
            "[t](https://example.com \"a\\\" onmouseover=\\\"alert(1)\")",
        ),
        markdown(6, "[](https://example.com/empty)"),
        markdown(7, "[x](https://example.com/' onerror='alert(1))"),
    ];
    let session = session();
    let html = render_html(&berlin(&session, &messages));
    assert_safe(&html);
    assert_eq!(
        hrefs(&html),
        [
            "https://example.com/a?b=1&c=2",
            "HTTP://example.com",
            "mailto:help@example.com",
            "mailto:us@example.com",
            "https://example.com/%22onmouseover=%22alert(1)",
            "https://example.com",
            "https://example.com/empty",
        ]
    );
    assert!(html.contains("title=\"a&quot; onmouseover=&quot;alert(1)\""));
    // An empty link shows where it goes.
    assert!(html.contains(">https://example.com/empty</a>"), "{html}");
    // Not a link (a destination cannot hold a space): plain text, where quotes are inert.
    assert!(html.contains("[x](https://example.com/' onerror='alert(1))"));
}

#[test]
fn markdown_formatting_is_rendered() {
    let body = "# Head\n\n- one\n- two\n\n```rust\nfn x() {}\n```\n\n> quoted\n\n\
                | a | b |\n|---|:-:|\n| 1 | 2 |\n\n~~gone~~ *em* `code`";
    let messages = vec![markdown(1, body)];
    let session = session();
    let html = render_html(&berlin(&session, &messages));
    assert_safe(&html);
    assert_in_order(
        &html,
        &[
            "<h1>Head</h1>",
            "<li>one</li>",
            "<code class=\"language-rust\">fn x() {}",
            "<blockquote>\n<p>quoted</p>",
            "<td>1</td>",
            "<del>gone</del> <em>em</em> <code>code</code>",
        ],
    );

    let text = render_text(&berlin(&session, &messages));
    assert!(
        text.contains("[09:16] Ana: # Head\n\n    - one\n    - two\n\n    ```rust\n"),
        "{text}"
    );
}

#[test]
fn raw_html_in_markdown_is_shown_as_text() {
    let messages = vec![
        markdown(1, "<img src=x onerror=alert(1)>"),
        markdown(
            2,
            "inline <img src=x onerror=alert(1)> and <b onclick=\"x()\">bold</b>",
        ),
        markdown(3, "<iframe src=\"https://evil.example.com\"></iframe>"),
        markdown(4, "<script>\nalert(1)\n</script>"),
        markdown(5, "<!-- comment --><style>body{display:none}</style>"),
        markdown(6, "<svg><a xlink:href=\"javascript:alert(1)\">x</a></svg>"),
        markdown(7, "```\" onmouseover=\"alert(1)\ncode\n```"),
    ];
    let session = session();
    let html = render_html(&berlin(&session, &messages));
    assert_safe(&html);
    let lower = html.to_lowercase();
    for forbidden in ["<script", "<iframe", "<img", "<svg", "<b ", "<!-- comment"] {
        assert!(!lower.contains(forbidden), "{forbidden} in:\n{html}");
    }
    for escaped in [
        "&lt;img src=x onerror=alert(1)&gt;",
        "&lt;b onclick=\"x()\"&gt;bold&lt;/b&gt;",
        "&lt;iframe src=\"https://evil.example.com\"&gt;&lt;/iframe&gt;",
        "&lt;script&gt;\nalert(1)\n&lt;/script&gt;",
        "&lt;style&gt;body{display:none}&lt;/style&gt;",
        "&lt;svg&gt;&lt;a xlink:href=\"javascript:alert(1)\"&gt;x&lt;/a&gt;&lt;/svg&gt;",
        "class=\"language-&quot;\"",
    ] {
        assert!(html.contains(escaped), "{escaped} missing from:\n{html}");
    }
}

#[test]
fn images_become_links_or_text_never_img() {
    let messages = vec![
        markdown(1, "![a chart](https://img.example.com/chart.png)"),
        markdown(2, "![](https://img.example.com/blank.png)"),
        markdown(3, "![pixel](http://tracker.example.com/p.gif)"),
        markdown(4, "![inline](data:image/png;base64,iVBORw0KGgo=)"),
        markdown(5, "![evil](javascript:alert(1))"),
        markdown(
            6,
            "[![nested](https://img.example.com/n.png)](https://example.com/n)",
        ),
    ];
    let session = session();
    let html = render_html(&berlin(&session, &messages));
    assert_safe(&html);
    assert!(!html.contains("<img"), "{html}");
    assert_eq!(
        hrefs(&html),
        [
            "https://img.example.com/chart.png",
            "https://img.example.com/blank.png",
            "http://tracker.example.com/p.gif",
            "https://example.com/n",
        ]
    );
    assert!(html.contains(">a chart</a>"));
    assert!(html.contains(">https://img.example.com/blank.png</a>"));
    for alt in ["inline", "evil", ">nested</a>"] {
        assert!(html.contains(alt), "{alt} missing from:\n{html}");
    }
}

#[test]
fn attachment_urls_need_a_safe_scheme() {
    let urls = [
        "javascript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\u{0}JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "/relative/file.pdf",
    ];
    let mut messages: Vec<MessageView> = urls
        .iter()
        .zip(1..)
        .map(|(url, seq)| attachment(seq, &format!("file{seq}.pdf"), url))
        .collect();
    messages.push(attachment(
        9,
        "\" onmouseover=\"alert(1).pdf",
        "https://files.example.com/a\" onmouseover=\"alert(1)",
    ));
    let session = session();
    let html = render_html(&berlin(&session, &messages));
    assert_safe(&html);
    assert_eq!(
        hrefs(&html),
        ["https://files.example.com/a%22%20onmouseover=%22alert(1)"]
    );
    for seq in 1..=urls.len() {
        assert!(html.contains(&format!("Attachment: file{seq}.pdf (12.1 KB)")));
    }
    assert!(html.contains("&quot; onmouseover=&quot;alert(1).pdf</a>"));

    let text = render_text(&berlin(&session, &messages));
    assert!(!text.to_lowercase().contains("script:"), "{text}");
    assert!(!text.contains("data:"), "{text}");
    assert!(text.contains("Attachment: file1.pdf (12.1 KB)\n"), "{text}");
}
