//! Session transcripts as plain text and as a standalone HTML page.
//!
//! The engine keeps no message history, so when it asks for a transcript
//! ([`Effect::EmailTranscript`](crate::Effect::EmailTranscript)) the host gathers the
//! session's stored [`Record::Message`](crate::Record::Message)s and its latest
//! [`Record::Session`](crate::Record::Session) and renders them here. Rendering reads no
//! clock and does no IO, so the server, the widget (wasm32) and the C ABI produce the same
//! bytes from the same records.
//!
//! ```
//! # use switchboard_core::protocol::model::{MessageView, SessionView};
//! # fn demo(session: &SessionView, messages: &[MessageView]) {
//! use switchboard_core::transcript::{TranscriptInput, render_html, render_text};
//!
//! let input = TranscriptInput {
//!     title: Some("Acme Support"),
//!     time_zone: Some("Europe/Lisbon"),
//!     ..TranscriptInput::new(session, messages)
//! };
//! let text = render_text(&input);
//! let page = render_html(&input);
//! # let _ = (text, page);
//! # }
//! ```
//!
//! # What is shown
//!
//! Only [`MessageView`]s of the transcript's own session are rendered, in `seq` order, each
//! message id once; system messages appear as neutral lines. Internal notes are a different
//! type ([`NoteView`](crate::protocol::model::NoteView)) that the input has no room for, so
//! no note can reach a transcript whatever records the host holds. The session's tags are
//! staff labels and appear only for [`Audience::Staff`].
//!
//! # HTML safety
//!
//! The page loads nothing and runs nothing: no scripts, no external resources, and a
//! Content-Security-Policy that forbids both should anything slip through. All user text
//! (title, names, bodies, tags, visitor fields, attachment names and URLs) goes through
//! pulldown-cmark's HTML escapers. Markdown is rendered by pulldown-cmark with its raw
//! HTML shown as text. Links survive only with an `http:`, `https:` or `mailto:`
//! destination; any other link keeps its text and loses its destination. Images never
//! become `<img>`, because a remote image in an e-mailed transcript tells its server when
//! and from where the transcript is read: an image with an allowed destination becomes a
//! link to it, any other image is reduced to its alt text. Attachment URLs get the same
//! scheme check.
//!
//! Plain text needs no escaping, but control characters and explicit bidirectional
//! overrides are dropped from it (and from the HTML) because they can make a line read
//! differently from what was sent, and continuation lines of a message are indented so
//! that a body cannot pass itself off as another message.

use std::collections::BTreeSet;

use jiff::Timestamp as JiffTimestamp;
use jiff::tz::TimeZone;
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

use crate::protocol::model::{Attachment, MessageKind, MessageView, SenderKind, SessionView};
use crate::time::Timestamp;

/// Who a transcript is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Audience {
    /// The visitor, e.g. the e-mailed transcript: nothing staff-only.
    #[default]
    Visitor,
    /// Staff: also shows the session's tags.
    Staff,
}

/// What a transcript is rendered from: the host's stored records of one session.
#[derive(Debug, Clone, Copy)]
pub struct TranscriptInput<'a> {
    /// The session's latest stored state.
    pub session: &'a SessionView,
    /// The session's stored messages, in any order; repeats of a message id are shown once
    /// and messages of other sessions are skipped.
    pub messages: &'a [MessageView],
    /// Heading, e.g. the tenant's name; `None` or blank: just "Chat transcript".
    pub title: Option<&'a str>,
    /// IANA time zone for every time shown; `None` or unknown: UTC.
    pub time_zone: Option<&'a str>,
    /// Who will read it. Default [`Audience::Visitor`].
    pub audience: Audience,
}

impl<'a> TranscriptInput<'a> {
    /// A visitor's transcript in UTC without a title.
    #[must_use]
    pub fn new(session: &'a SessionView, messages: &'a [MessageView]) -> Self {
        TranscriptInput {
            session,
            messages,
            title: None,
            time_zone: None,
            audience: Audience::Visitor,
        }
    }
}

/// The transcript as readable plain text: a header, then one block per message,
/// `[09:15] Ana: body`, with attachments on an indented line below.
#[must_use]
pub fn render_text(input: &TranscriptInput<'_>) -> String {
    let transcript = Transcript::new(input);
    let mut out = String::new();
    text_header(&transcript, &mut out);
    for (day, message) in transcript.entries() {
        if let Some(day) = day {
            out.push_str(&format!("--- {day} ---\n"));
        }
        text_message(&transcript, &mut out, message);
    }
    out
}

/// The transcript as a complete standalone HTML5 document (inline CSS, no scripts, no
/// external resources); see the [module documentation](self) for what is escaped, which
/// links are kept and what happens to images.
#[must_use]
pub fn render_html(input: &TranscriptInput<'_>) -> String {
    let transcript = Transcript::new(input);
    let mut out = String::with_capacity(4096 + 256 * transcript.messages.len());
    html_head(&transcript, &mut out);
    html_header(&transcript, &mut out);
    out.push_str("<ol class=\"messages\">\n");
    for (day, message) in transcript.entries() {
        if let Some(day) = day {
            html_day(&mut out, &day);
        }
        html_message(&transcript, &mut out, message);
    }
    out.push_str("</ol>\n</main>\n</body>\n</html>\n");
    out
}

const HEADING: &str = "Chat transcript";

/// The input sorted out once for both renderers.
struct Transcript<'a> {
    session: &'a SessionView,
    messages: Vec<&'a MessageView>,
    title: Option<String>,
    clock: Clock,
    audience: Audience,
}

impl<'a> Transcript<'a> {
    fn new(input: &TranscriptInput<'a>) -> Self {
        Transcript {
            session: input.session,
            messages: session_messages(input.session, input.messages),
            title: input
                .title
                .map(clean_line)
                .filter(|title| !title.is_empty()),
            clock: Clock::new(input.time_zone),
            audience: input.audience,
        }
    }

    fn document_title(&self) -> String {
        match &self.title {
            Some(title) => format!("{title} – {HEADING}"),
            None => HEADING.to_owned(),
        }
    }

    /// Header lines as (label, value), values not yet cleaned or escaped.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let session = self.session;
        let mut fields = vec![("Session", session.session_id.to_string())];
        fields.extend(self.visitor_name().map(|name| ("Visitor", name)));
        fields.extend(session.visitor.email.clone().map(|email| ("E-mail", email)));
        let agents = self.agent_names();
        if !agents.is_empty() {
            let label = if agents.len() == 1 { "Agent" } else { "Agents" };
            fields.push((label, agents.join(", ")));
        }
        fields.push(("Started", self.clock.date_time(session.created_at)));
        fields.extend(
            session
                .ended_at
                .map(|at| ("Ended", self.clock.date_time(at))),
        );
        fields.push(("Time zone", self.clock.zone_name()));
        if self.audience == Audience::Staff && !session.tags.is_empty() {
            let tags: Vec<&str> = session.tags.iter().map(|tag| &**tag).collect();
            fields.push(("Tags", tags.join(", ")));
        }
        fields
    }

    fn visitor_name(&self) -> Option<String> {
        let name = self.session.visitor.name.as_deref().map(clean_line)?;
        (!name.is_empty()).then_some(name)
    }

    /// Everyone who answered, in order of first reply, then the agent holding the session.
    fn agent_names(&self) -> Vec<String> {
        let repliers = self
            .messages
            .iter()
            .filter(|message| message.sender.kind == SenderKind::Agent)
            .filter_map(|message| message.sender.name.as_deref());
        let mut names: Vec<String> = Vec::new();
        for name in repliers.chain(self.session.agent_name.as_deref()) {
            let name = clean_line(name);
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    fn sender_name(&self, message: &MessageView) -> String {
        let given = message.sender.name.as_deref().map(clean_line);
        match given.filter(|name| !name.is_empty()) {
            Some(name) => name,
            None => self.fallback_name(message.sender.kind),
        }
    }

    fn fallback_name(&self, kind: SenderKind) -> String {
        match kind {
            SenderKind::Visitor => self.visitor_name().unwrap_or_else(|| "Visitor".to_owned()),
            SenderKind::Agent => "Agent".to_owned(),
            SenderKind::Bot => "Bot".to_owned(),
            SenderKind::System => "System".to_owned(),
        }
    }

    /// Messages with the local date when it differs from the previous one's, so chats that
    /// run past midnight stay unambiguous although each message shows only its time.
    fn entries(&self) -> Vec<(Option<String>, &'a MessageView)> {
        let mut day = self.clock.date(self.session.created_at);
        let mut entries = Vec::with_capacity(self.messages.len());
        for &message in &self.messages {
            let date = self.clock.date(message.created_at);
            let change = (date != day).then(|| date.clone());
            day = date;
            entries.push((change, message));
        }
        entries
    }
}

/// The session's own messages by `seq`, each message id once.
fn session_messages<'a>(
    session: &SessionView,
    messages: &'a [MessageView],
) -> Vec<&'a MessageView> {
    let mut ordered: Vec<&MessageView> = messages
        .iter()
        .filter(|message| message.session_id == session.session_id)
        .collect();
    ordered.sort_by_key(|message| (message.seq, message.message_id));
    let mut seen = BTreeSet::new();
    ordered.retain(|message| seen.insert(message.message_id));
    ordered
}

fn is_system(message: &MessageView) -> bool {
    message.sender.kind == SenderKind::System || message.kind == MessageKind::System
}

/// Times in one zone, from the bundled time-zone database so every platform agrees.
struct Clock {
    zone: TimeZone,
}

impl Clock {
    fn new(name: Option<&str>) -> Self {
        let zone = name.and_then(|name| TimeZone::get(name.trim()).ok());
        Clock {
            zone: zone.unwrap_or(TimeZone::UTC),
        }
    }

    fn zone_name(&self) -> String {
        self.zone.iana_name().unwrap_or("UTC").to_owned()
    }

    fn date_time(&self, at: Timestamp) -> String {
        self.format(at, "%Y-%m-%d %H:%M")
    }

    fn date(&self, at: Timestamp) -> String {
        self.format(at, "%Y-%m-%d")
    }

    fn time(&self, at: Timestamp) -> String {
        self.format(at, "%H:%M")
    }

    fn machine(&self, at: Timestamp) -> String {
        self.format(at, "%Y-%m-%dT%H:%M:%S%:z")
    }

    fn format(&self, at: Timestamp, pattern: &str) -> String {
        match JiffTimestamp::from_millisecond(at.as_millis()) {
            Ok(instant) => instant
                .to_zoned(self.zone.clone())
                .strftime(pattern)
                .to_string(),
            // Beyond the years jiff can represent; still say something truthful.
            Err(_) => at.to_string(),
        }
    }
}

/// Characters that could make text read differently from what was sent: control
/// characters (other than newline and tab) and explicit bidirectional embeddings,
/// overrides and isolates.
fn is_disguising(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean_text(text: &str) -> String {
    text.chars().filter(|&c| !is_disguising(c)).collect()
}

/// For one-line fields: a newline in a name could otherwise start a fake message line.
fn clean_line(text: &str) -> String {
    let flat: String = clean_text(text)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    flat.trim().to_owned()
}

const ALLOWED_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// The URL as a browser would read it, if its scheme is allowed.
///
/// Browsers ignore tabs and newlines anywhere in a URL and control characters and spaces
/// around it, so `java\tscript:` and ` javascript:` are `javascript:`; the check runs on,
/// and the caller emits, the URL with those removed, so what is checked is what is followed.
/// A URL without a scheme (relative, `//host`) is refused: a transcript has no base to
/// resolve it against.
fn safe_url(raw: &str) -> Option<String> {
    let stripped: String = raw.chars().filter(|c| !c.is_control()).collect();
    let url = stripped.trim();
    let (scheme, _) = url.split_once(':')?;
    ALLOWED_SCHEMES
        .iter()
        .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
        .then(|| url.to_owned())
}

fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

// ---- plain text ----

/// Continuation lines of a body start with this, so no body line can look like a new
/// `[hh:mm] Name:` line.
const INDENT: &str = "    ";

fn indent_continuations(body: &str) -> String {
    let mut lines = body.split('\n');
    let mut indented = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        indented.push('\n');
        if !line.is_empty() {
            indented.push_str(INDENT);
            indented.push_str(line);
        }
    }
    indented
}

fn text_header(transcript: &Transcript<'_>, out: &mut String) {
    if let Some(title) = &transcript.title {
        out.push_str(title);
        out.push('\n');
    }
    out.push_str(HEADING);
    out.push_str("\n\n");
    let fields = transcript.fields();
    let width = fields.iter().map(|(label, _)| label.len() + 1).max();
    for (label, value) in &fields {
        let label = format!("{label}:");
        let width = width.unwrap_or(0);
        out.push_str(&format!("{label:<width$} {}\n", clean_line(value)));
    }
    out.push('\n');
}

fn text_message(transcript: &Transcript<'_>, out: &mut String, message: &MessageView) {
    let time = transcript.clock.time(message.created_at);
    let body = indent_continuations(&clean_text(&message.body));
    let line = if is_system(message) {
        format!("[{time}] * {body}")
    } else {
        format!("[{time}] {}: {body}", transcript.sender_name(message))
    };
    out.push_str(line.trim_end());
    out.push('\n');
    if let Some(attachment) = &message.attachment {
        out.push_str(&format!(
            "{INDENT}Attachment: {}\n",
            text_attachment(attachment)
        ));
    }
}

fn text_attachment(attachment: &Attachment) -> String {
    let name = clean_line(&attachment.name);
    let size = format_size(attachment.size_bytes);
    match safe_url(&attachment.url) {
        Some(url) => format!("{name} ({size}) {url}"),
        None => format!("{name} ({size})"),
    }
}

// ---- HTML ----

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:";

const LINK_REL: &str = "nofollow noopener noreferrer";

const STYLE: &str = concat!(
    "body{margin:0;background:#f5f6f8;color:#1f2328;",
    "font:15px/1.5 -apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}",
    "main{max-width:720px;margin:0 auto;padding:24px 16px}",
    "h1{font-size:22px;margin:0 0 4px}",
    ".subtitle{margin:0 0 16px;color:#59636e}",
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 24px}",
    "dt{color:#59636e}dd{margin:0;overflow-wrap:anywhere}",
    ".messages{list-style:none;margin:0;padding:0}",
    ".message{background:#fff;border:1px solid #d1d9e0;border-radius:8px;",
    "padding:8px 12px;margin:0 0 8px;overflow-wrap:anywhere}",
    ".message.visitor{background:#eef6ff}",
    ".meta{margin:0 0 4px;font-size:13px;color:#59636e}",
    ".sender{font-weight:600;color:#1f2328}",
    ".system,.day{text-align:center;color:#59636e;font-size:13px;margin:8px 0}",
    ".day{margin-top:16px;font-weight:600}",
    ".body p,.body ul,.body ol,.body pre,.body blockquote{margin:0 0 8px}",
    ".body>:last-child{margin-bottom:0}",
    "pre{overflow-x:auto;background:#f6f8fa;padding:8px;border-radius:6px}",
    "code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}",
    "blockquote{padding-left:12px;border-left:3px solid #d1d9e0;color:#59636e}",
    ".attachment{margin:4px 0 0;font-size:14px}",
    "a{color:#0969da}",
);

/// Escaped for text and for double-quoted attributes alike.
fn push_escaped(out: &mut String, text: &str) {
    // Writing into a String cannot fail.
    let _ = escape_html(&mut *out, &clean_text(text));
}

fn html_head(transcript: &Transcript<'_>, out: &mut String) {
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    out.push_str(CONTENT_SECURITY_POLICY);
    out.push_str("\">\n<meta name=\"referrer\" content=\"no-referrer\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>");
    push_escaped(out, &transcript.document_title());
    out.push_str("</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<main>\n");
}

fn html_header(transcript: &Transcript<'_>, out: &mut String) {
    out.push_str("<header>\n<h1>");
    match &transcript.title {
        Some(title) => {
            push_escaped(out, title);
            out.push_str("</h1>\n<p class=\"subtitle\">");
            out.push_str(HEADING);
            out.push_str("</p>\n");
        }
        None => {
            out.push_str(HEADING);
            out.push_str("</h1>\n");
        }
    }
    out.push_str("<dl>\n");
    for (label, value) in transcript.fields() {
        out.push_str(&format!("<dt>{label}</dt><dd>"));
        push_escaped(out, &clean_line(&value));
        out.push_str("</dd>\n");
    }
    out.push_str("</dl>\n</header>\n");
}

fn html_day(out: &mut String, day: &str) {
    out.push_str("<li class=\"day\">");
    push_escaped(out, day);
    out.push_str("</li>\n");
}

fn html_time(transcript: &Transcript<'_>, out: &mut String, at: Timestamp) {
    out.push_str("<time datetime=\"");
    push_escaped(out, &transcript.clock.machine(at));
    out.push_str("\">");
    push_escaped(out, &transcript.clock.time(at));
    out.push_str("</time>");
}

fn sender_class(kind: SenderKind) -> &'static str {
    match kind {
        SenderKind::Visitor => "visitor",
        SenderKind::Agent => "agent",
        SenderKind::Bot => "bot",
        SenderKind::System => "system",
    }
}

fn html_message(transcript: &Transcript<'_>, out: &mut String, message: &MessageView) {
    if is_system(message) {
        html_system(transcript, out, message);
        return;
    }
    let class = sender_class(message.sender.kind);
    out.push_str(&format!(
        "<li class=\"message {class}\">\n<p class=\"meta\">"
    ));
    html_time(transcript, out, message.created_at);
    out.push_str(" <span class=\"sender\">");
    push_escaped(out, &transcript.sender_name(message));
    out.push_str("</span></p>\n");
    if !message.body.trim().is_empty() {
        out.push_str("<div class=\"body\">");
        html_body(out, message);
        out.push_str("</div>\n");
    }
    if let Some(attachment) = &message.attachment {
        html_attachment(out, attachment);
    }
    out.push_str("</li>\n");
}

fn html_system(transcript: &Transcript<'_>, out: &mut String, message: &MessageView) {
    out.push_str("<li class=\"system\">");
    html_time(transcript, out, message.created_at);
    out.push(' ');
    push_lines(out, &message.body);
    out.push_str("</li>\n");
}

fn html_body(out: &mut String, message: &MessageView) {
    match message.kind {
        MessageKind::Markdown => push_markdown(out, &message.body),
        MessageKind::Text | MessageKind::System | MessageKind::Attachment => {
            push_lines(out, &message.body);
        }
    }
}

/// Escaped text whose newlines become `<br>`.
fn push_lines(out: &mut String, text: &str) {
    for (index, line) in clean_text(text).split('\n').enumerate() {
        if index > 0 {
            out.push_str("<br>\n");
        }
        push_escaped(out, line);
    }
}

fn html_attachment(out: &mut String, attachment: &Attachment) {
    let name = clean_line(&attachment.name);
    out.push_str("<p class=\"attachment\">Attachment: ");
    match safe_url(&attachment.url) {
        Some(url) => {
            out.push_str(&anchor(&url, ""));
            push_escaped(out, &name);
            out.push_str("</a>");
        }
        None => push_escaped(out, &name),
    }
    out.push_str(" (");
    out.push_str(&format_size(attachment.size_bytes));
    out.push_str(")</p>\n");
}

/// An opening `<a>` for a URL that passed [`safe_url`].
fn anchor(url: &str, title: &str) -> String {
    let mut html = String::from("<a href=\"");
    // Writing into a String cannot fail.
    let _ = escape_href(&mut html, url);
    html.push('"');
    let title = clean_line(title);
    if !title.is_empty() {
        html.push_str(" title=\"");
        push_escaped(&mut html, &title);
        html.push('"');
    }
    html.push_str(&format!(" rel=\"{LINK_REL}\">"));
    html
}

// ---- markdown ----

fn push_markdown(out: &mut String, body: &str) {
    let cleaned = clean_text(body);
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = safe_events(Parser::new_ext(&cleaned, options));
    pulldown_cmark::html::push_html(out, events.into_iter());
}

/// The parser's events with raw HTML turned into text and every link and image replaced
/// by an anchor this module writes itself, or by its bare text.
///
/// pulldown-cmark has no switch to refuse raw HTML, and its own anchors carry no `rel`;
/// writing the anchors here keeps the only raw HTML in the stream our own.
fn safe_events(parser: Parser<'_>) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    // Per open link or image: whether an anchor was opened for it.
    let mut open: Vec<bool> = Vec::new();
    let mut events = parser.peekable();
    while let Some(event) = events.next() {
        let empty = matches!(
            events.peek(),
            Some(Event::End(TagEnd::Link | TagEnd::Image))
        );
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw)),
            Event::Start(Tag::HtmlBlock) => out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => out.push(Event::End(TagEnd::Paragraph)),
            Event::Start(
                Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    ..
                }
                | Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    ..
                },
            ) => {
                let target = Target {
                    link_type,
                    dest_url: &dest_url,
                    title: &title,
                    empty,
                };
                let opened = open_anchor(&mut out, &open, &target);
                open.push(opened);
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if open.pop() == Some(true) {
                    out.push(Event::InlineHtml(CowStr::Borrowed("</a>")));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A markdown link or image destination.
struct Target<'t> {
    link_type: LinkType,
    dest_url: &'t str,
    title: &'t str,
    /// No link text (or alt text) follows, so the URL itself is shown.
    empty: bool,
}

/// Opens an anchor for an allowed destination; returns whether it did.
fn open_anchor(out: &mut Vec<Event<'_>>, open: &[bool], target: &Target<'_>) -> bool {
    // An anchor inside an anchor is invalid HTML; the inner one stays text.
    if open.contains(&true) {
        return false;
    }
    let dest = match target.link_type {
        // Autolinked addresses (`<ana@example.com>`) come without their scheme.
        LinkType::Email => format!("mailto:{}", target.dest_url),
        _ => target.dest_url.to_owned(),
    };
    let Some(url) = safe_url(&dest) else {
        return false;
    };
    out.push(Event::InlineHtml(anchor(&url, target.title).into()));
    if target.empty {
        out.push(Event::Text(url.into()));
    }
    true
}
