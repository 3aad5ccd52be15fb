//! The e-mail's look, kept apart from its content. E-mail clients drop or ignore much of
//! CSS, so every element carries its light-mode style inline (what every client shows);
//! the `<style>` block only adds what inline styles cannot say: dark mode
//! (`prefers-color-scheme`, with `!important` to win over the inline defaults) and the
//! narrow-screen layout. Nothing here is loaded from elsewhere: no fonts, images or scripts.

/// The `<head>` style block.
pub(super) const CSS: &str = "\
:root{color-scheme:light dark;supported-color-schemes:light dark}\
body{margin:0;padding:0}\
a{color:#1d4ed8}\
@media (prefers-color-scheme: dark){\
.bg{background:#0b1120 !important}\
.card{background:#111827 !important;border-color:#1f2937 !important;color:#e5e7eb !important}\
.h{color:#f8fafc !important}\
.muted,.foot,.kv th{color:#94a3b8 !important}\
.kv th,.kv td,.foot,.step{border-color:#1f2937 !important}\
.code{background:#1f2937 !important;color:#e5e7eb !important;border-color:#334155 !important}\
a{color:#93c5fd !important}\
.chip{border-color:#334155 !important;color:#bfdbfe !important}\
.btn{background:#1e3a8a !important;border-color:#1e40af !important;color:#ffffff !important}\
}\
@media (max-width:600px){\
.pad{padding:16px !important}\
.band{padding:16px !important}\
.kv th,.kv td{display:block !important;width:auto !important;padding:2px 0 !important;border:0 !important}\
.kv th{padding-top:10px !important}\
}";

pub(super) const BODY: &str = "margin:0;padding:0;background:#f1f5f9;";
pub(super) const OUTER: &str = "background:#f1f5f9;";
pub(super) const CARD: &str = "width:100%;max-width:680px;background:#ffffff;border:1px solid #e2e8f0;border-radius:10px;border-collapse:separate;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#0f172a;font-size:15px;line-height:1.5;";
pub(super) const BAND: &str = "color:#ffffff;padding:18px 24px;border-radius:9px 9px 0 0;";
pub(super) const BAND_KICKER: &str = "font-size:12px;font-weight:700;letter-spacing:.08em;";
pub(super) const BAND_TITLE: &str =
    "font-size:20px;font-weight:700;line-height:1.3;margin-top:4px;word-break:break-word;";
pub(super) const PAD: &str = "padding:8px 24px 20px 24px;";
pub(super) const H2: &str = "font-size:13px;font-weight:700;letter-spacing:.06em;text-transform:uppercase;color:#334155;margin:22px 0 8px 0;";
pub(super) const P: &str = "margin:0 0 8px 0;";
pub(super) const MUTED: &str = "margin:0 0 8px 0;color:#475569;font-size:14px;";
pub(super) const KV: &str = "width:100%;border-collapse:collapse;font-size:14px;";
pub(super) const TH: &str = "text-align:left;vertical-align:top;width:150px;padding:6px 12px 6px 0;color:#475569;font-weight:600;border-top:1px solid #e2e8f0;";
pub(super) const TD: &str = "vertical-align:top;padding:6px 0;border-top:1px solid #e2e8f0;word-break:break-word;overflow-wrap:anywhere;";
pub(super) const CODE: &str = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;background:#f1f5f9;border:1px solid #e2e8f0;border-radius:4px;padding:1px 4px;word-break:break-all;";
pub(super) const PRE: &str = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;background:#f1f5f9;border:1px solid #e2e8f0;border-radius:6px;padding:8px 10px;margin:4px 0 8px 0;white-space:pre-wrap;overflow-wrap:anywhere;";
pub(super) const CHIP: &str = "display:inline-block;padding:2px 10px;margin:0 6px 6px 0;border:1px solid #cbd5e1;border-radius:999px;font-size:13px;text-decoration:none;color:#1e40af;";
pub(super) const STEP: &str = "padding:6px 0;border-top:1px solid #e2e8f0;font-size:14px;word-break:break-word;overflow-wrap:anywhere;";
pub(super) const BADGE: &str = "display:inline-block;min-width:84px;text-align:center;padding:1px 8px;margin-right:8px;border-radius:4px;color:#ffffff;font-size:12px;font-weight:700;letter-spacing:.04em;";
pub(super) const OL: &str = "margin:0 0 8px 0;padding-left:22px;";
pub(super) const LI: &str = "margin:0 0 6px 0;";
pub(super) const BTN: &str = "display:inline-block;padding:7px 14px;margin:0 8px 8px 0;background:#1d4ed8;border:1px solid #1d4ed8;border-radius:6px;color:#ffffff;font-size:14px;font-weight:600;text-decoration:none;";
pub(super) const FOOT: &str = "padding:12px 24px;border-top:1px solid #e2e8f0;font-size:12px;color:#64748b;word-break:break-all;";

/// The colour of an outcome's badge, beside its word.
pub(super) fn status_colour(status: &str) -> &'static str {
    match status {
        "done" => "#15803d",
        "failed" => "#b91c1c",
        "planned" => "#1d4ed8",
        _ => "#475569",
    }
}
