/**
 * The theme shared by <gpt-chat> and <gpt-template-editor>: every colour and size is a
 * `--gpt-chat-*` custom property, read inside the components through private `--_*` aliases.
 *
 * - Palettes: a light and a dark one. The `color-scheme` attribute picks one (`light`, `dark`), or
 *   `auto` / absent follows `prefers-color-scheme`. The first `var(--gpt-chat-*, default)` of each
 *   property below is its light default (tools/custom-elements.mjs reads them from here).
 * - Text follows its surface: where `--gpt-chat-color` is not set, the text colour of the box, of
 *   each bubble and of code is derived from that surface's own background (near-black on light,
 *   near-white on dark, CSS relative colour). A page that sets `--gpt-chat-background` alone, or
 *   light bubbles in a dark page, stays readable. Borders, bar tracks and muted text are mixed from
 *   the text and background colours, so they hold in both schemes and in any host theme.
 */
import { css, unsafeCSS } from 'lit';

/** The dark palette, where the light one has its defaults: bound in two places below. */
const dark = css`
  color-scheme: dark;
  --_bg: var(--gpt-chat-background, #16181d);
  --_fg: var(--gpt-chat-color, #e6e8ec);
  --_muted: var(--gpt-chat-muted-color, #a3aab8);
  --_border: var(--gpt-chat-border-color, #353a45);
  --_user-bg: var(--gpt-chat-user-background, #1f3157);
  --_bot-bg: var(--gpt-chat-assistant-background, #23262e);
  --_accent: var(--gpt-chat-accent-color, #7aa2ff);
  --_accent-fg: var(--gpt-chat-accent-text-color, #0b1020);
  --_error: var(--gpt-chat-error-color, #ff8a80);
  --_code-bg: var(--gpt-chat-code-background, #2b2f38);
`;

/**
 * Text on a background `bg`: oklch lightness 0.22 on light surfaces, 0.94 on dark ones (the
 * switch is at lightness 0.6; the clamp turns the steep ramp into two values).
 */
const on = (bg: string) => unsafeCSS(`oklch(from ${bg} clamp(0.22, (0.6 - l) * 1000, 0.94) 0 0)`);
const mutedOn = (bg: string) => unsafeCSS(`oklch(from ${bg} clamp(0.45, (0.6 - l) * 1000, 0.76) 0 0)`);

export const themeTokens = css`
  :host {
    color-scheme: light;
    --_bg: var(--gpt-chat-background, #ffffff);
    --_fg: var(--gpt-chat-color, #1b1d21);
    --_muted: var(--gpt-chat-muted-color, #5b6270);
    --_border: var(--gpt-chat-border-color, #d5d9e0);
    --_user-bg: var(--gpt-chat-user-background, #e8f0fe);
    --_bot-bg: var(--gpt-chat-assistant-background, #f3f4f6);
    --_accent: var(--gpt-chat-accent-color, #1a56db);
    --_accent-fg: var(--gpt-chat-accent-text-color, #ffffff);
    --_error: var(--gpt-chat-error-color, #b42318);
    --_code-bg: var(--gpt-chat-code-background, #eef0f3);
    --_radius: var(--gpt-chat-radius, 10px);
    --_gap: var(--gpt-chat-gap, 0.75rem);
    --_font: var(--gpt-chat-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_mono: var(--gpt-chat-mono-font, ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([color-scheme='light'])) { ${dark} }
  }
  :host([color-scheme='dark']) { ${dark} }
  /* Text on each surface; the empty part of a probability bar is a tint of the text. */
  :host {
    --_on-user: var(--_fg);
    --_on-bot: var(--_fg);
    --_on-code: var(--_fg);
    --_track: color-mix(in srgb, var(--_fg) 16%, transparent);
  }
  /*
   * Where relative colours exist, text and lines are derived from the surfaces unless the page
   * set them. The selector is as specific as the palettes' (:is() takes its most specific
   * argument) and comes last, so it wins over both.
   */
  @supports (color: oklch(from red l c h)) {
    :host(:is(*, [color-scheme])) {
      --_fg: var(--gpt-chat-color, ${on('var(--_bg)')});
      --_muted: var(--gpt-chat-muted-color, ${mutedOn('var(--_bg)')});
      --_border: var(--gpt-chat-border-color, color-mix(in srgb, var(--_fg) 22%, var(--_bg)));
      --_accent-fg: var(--gpt-chat-accent-text-color, ${on('var(--_accent)')});
      --_on-user: var(--gpt-chat-color, ${on('var(--_user-bg)')});
      --_on-bot: var(--gpt-chat-color, ${on('var(--_bot-bg)')});
      --_on-code: var(--gpt-chat-color, ${on('var(--_code-bg)')});
    }
  }
`;
