//! The room's answers as bars: one bar per choice (every choice, even one
//! nobody picked), a round's bars beside the other round's, so the room
//! sees how discussion moved the answers.

use egui_plot::{Bar, BarChart, Legend, Plot};
use pinlab_room::Tally;

/// Colours of rounds 1, 2, 3...
const ROUND_COLOURS: [egui::Color32; 3] = [
    egui::Color32::from_rgb(90, 150, 230),
    egui::Color32::from_rgb(240, 160, 60),
    egui::Color32::from_rgb(150, 200, 110),
];

/// The bars of one question's rounds: (round, [(x, count)]). For a choice
/// question every choice 1..=choices has a bar; for a number question the
/// values given.
pub fn bars(rounds: &[&Tally], choices: u32) -> Vec<(u32, Vec<(i64, u32)>)> {
    rounds
        .iter()
        .map(|t| {
            let counts: Vec<(i64, u32)> = if choices > 0 {
                (1..=choices as i64)
                    .map(|c| (c, t.counts.iter().find(|(v, _)| *v == c).map_or(0, |(_, n)| *n)))
                    .collect()
            } else {
                t.counts.clone()
            };
            (t.round, counts)
        })
        .collect()
}

/// Draws the rounds' bars; after the reveal, `right` (the model's answer)
/// is drawn in green in every round.
pub fn show(ui: &mut egui::Ui, rounds: &[&Tally], choices: u32, height: f32, right: Option<i64>) {
    let data = bars(rounds, choices);
    let n = data.len().max(1) as f64;
    let w = 0.8 / n;
    // A number question's values are spread out: put them in order 1..k.
    let values: Vec<i64> = {
        let mut v: Vec<i64> = data.iter().flat_map(|(_, c)| c.iter().map(|(x, _)| *x)).collect();
        v.sort();
        v.dedup();
        v
    };
    let slot = |x: i64| -> f64 {
        if choices > 0 {
            x as f64
        } else {
            values.iter().position(|v| *v == x).unwrap_or(0) as f64 + 1.0
        }
    };
    let labels = values.clone();
    Plot::new("live-answers")
        .height(height)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .include_y(0.0)
        .show_grid([false, true])
        .x_axis_formatter(move |m, _| {
            let i = m.value.round();
            if (m.value - i).abs() > 0.01 || i < 1.0 {
                return String::new();
            }
            if choices > 0 {
                format!("{}", i as i64)
            } else {
                labels.get(i as usize - 1).map(|v| v.to_string()).unwrap_or_default()
            }
        })
        .show(ui, |p| {
            for (k, (round, counts)) in data.iter().enumerate() {
                let off = (k as f64 - (n - 1.0) / 2.0) * w;
                let colour = ROUND_COLOURS[k % ROUND_COLOURS.len()];
                let bars = counts
                    .iter()
                    .map(|(x, c)| {
                        let b = Bar::new(slot(*x) + off, *c as f64).width(w * 0.95);
                        if right == Some(*x) {
                            b.fill(crate::gui::theme::GREEN)
                        } else {
                            b.fill(colour)
                        }
                    })
                    .collect();
                p.bar_chart(BarChart::new(format!("round {round}"), bars).color(colour));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_has_a_bar_and_rounds_stay_apart() {
        let r1 = Tally {
            step: 4,
            round: 1,
            answered: 3,
            counts: vec![(1, 2), (3, 1)],
        };
        let r2 = Tally {
            step: 4,
            round: 2,
            answered: 3,
            counts: vec![(3, 3)],
        };
        let b = bars(&[&r1, &r2], 3);
        assert_eq!(b[0], (1, vec![(1, 2), (2, 0), (3, 1)]));
        assert_eq!(b[1], (2, vec![(1, 0), (2, 0), (3, 3)]));
        // Numbers: only the values given.
        assert_eq!(bars(&[&r1], 0)[0].1, vec![(1, 2), (3, 1)]);
    }
}
