//! Which links the app opens. Lessons come from anyone (a colleague's file, a
//! dropped file, a lecturer's room), and in the browser a `javascript:` link
//! would run in the page's own origin: every link any panel asks egui to
//! open passes through `keep_safe_links` at the end of the frame, so only
//! web and mail addresses leave the app, and a web link opens in a new tab.

/// http, https and mailto: the schemes a lesson may link to.
pub fn allowed(url: &str) -> bool {
    let url = url.trim_start();
    let scheme = match url.split_once(':') {
        Some((s, _)) => s,
        None => return false,
    };
    ["http", "https", "mailto"]
        .iter()
        .any(|ok| scheme.eq_ignore_ascii_case(ok))
        && !url.chars().any(|c| c.is_control())
}

/// Drops the frame's requests to open any other link, and says so.
pub fn keep_safe_links(ctx: &egui::Context) -> Vec<String> {
    let mut refused = Vec::new();
    ctx.output_mut(|o| {
        o.commands.retain_mut(|c| match c {
            egui::OutputCommand::OpenUrl(open) if allowed(&open.url) => {
                // Never replace the app's own page with a lesson's link.
                open.new_tab = true;
                true
            }
            egui::OutputCommand::OpenUrl(open) => {
                refused.push(open.url.clone());
                false
            }
            _ => true,
        })
    });
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_and_mail_links_are_allowed() {
        for ok in [
            "https://lore.kernel.org/linux-mm/x",
            "http://a.b",
            "mailto:a@b.c",
            "HTTPS://X",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "file:///etc/passwd",
            "#step-3",
            "step.html",
            "https://a.b/\u{0}x",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
    }

    #[test]
    fn a_javascript_link_clicked_in_narration_is_not_opened() {
        let ctx = egui::Context::default();
        let mut refused = Vec::new();
        let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
            ui.ctx()
                .open_url(egui::OpenUrl::same_tab("javascript:document.title='owned'"));
            ui.ctx().open_url(egui::OpenUrl::same_tab(
                "https://elixir.bootlin.com/linux/v6.12/source/mm/gup.c",
            ));
            refused = keep_safe_links(ui.ctx());
        });
        // Headless: nobody uploads the font atlas.
        out.textures_delta.clear();
        assert_eq!(refused, vec!["javascript:document.title='owned'".to_string()]);
        let opened: Vec<_> = out
            .platform_output
            .commands
            .iter()
            .filter_map(|c| match c {
                egui::OutputCommand::OpenUrl(o) => Some((o.url.as_str(), o.new_tab)),
                _ => None,
            })
            .collect();
        assert_eq!(
            opened,
            vec![("https://elixir.bootlin.com/linux/v6.12/source/mm/gup.c", true)]
        );
    }
}
