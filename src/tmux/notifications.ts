/**
 * Typed control-mode notifications (tmux(1), CONTROL MODE). Names and ids are tmux's own; the
 * parser keeps the raw line for anything it does not model, so a newer tmux adds events instead of
 * breaking the connection.
 */

export type Notification =
  | { readonly type: 'sessions-changed' }
  | { readonly type: 'session-changed'; readonly sessionId: string; readonly name: string }
  | { readonly type: 'session-renamed'; readonly sessionId: string; readonly name: string }
  | { readonly type: 'session-window-changed'; readonly sessionId: string; readonly windowId: string }
  | { readonly type: 'client-session-changed'; readonly client: string; readonly sessionId: string; readonly name: string }
  | { readonly type: 'client-detached'; readonly client: string }
  | { readonly type: 'window-add' | 'window-close' | 'unlinked-window-add' | 'unlinked-window-close'; readonly windowId: string }
  | { readonly type: 'window-renamed' | 'unlinked-window-renamed'; readonly windowId: string; readonly name: string }
  | { readonly type: 'window-pane-changed'; readonly windowId: string; readonly paneId: string }
  | { readonly type: 'layout-change'; readonly windowId: string; readonly layout: string; readonly visibleLayout: string; readonly flags: string }
  | { readonly type: 'pane-mode-changed'; readonly paneId: string }
  | { readonly type: 'output'; readonly paneId: string; readonly data: Uint8Array }
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'subscription-changed'; readonly name: string; readonly value: string }
  | { readonly type: 'exit'; readonly reason: string }
  | { readonly type: 'other'; readonly name: string; readonly line: string };

/** Notifications after which the tree may look different. Output and messages are handled apart. */
export const STRUCTURAL: ReadonlySet<Notification['type']> = new Set<Notification['type']>([
  'sessions-changed', 'session-changed', 'session-renamed', 'session-window-changed', 'client-session-changed',
  'client-detached', 'window-add', 'window-close', 'unlinked-window-add', 'unlinked-window-close', 'window-renamed',
  'unlinked-window-renamed', 'window-pane-changed', 'layout-change', 'pane-mode-changed',
]);

/** Splits `word rest` where rest may contain spaces (names do). */
function head(text: string): [string, string] {
  const space = text.indexOf(' ');
  return space < 0 ? [text, ''] : [text.slice(0, space), text.slice(space + 1)];
}

/** Parses one notification line (already known to start with `%` and lie outside a reply block). */
export function parseNotification(line: string): Notification {
  const [name, rest] = head(line.slice(1));
  switch (name) {
    case 'sessions-changed':
      return { type: name };
    case 'session-changed':
    case 'session-renamed': {
      const [sessionId, sessionName] = head(rest);
      return { type: name, sessionId, name: sessionName };
    }
    case 'session-window-changed': {
      const [sessionId, windowId] = head(rest);
      return { type: name, sessionId, windowId };
    }
    case 'client-session-changed': {
      const [client, more] = head(rest);
      const [sessionId, sessionName] = head(more);
      return { type: name, client, sessionId, name: sessionName };
    }
    case 'client-detached':
      return { type: name, client: rest };
    case 'window-add':
    case 'window-close':
    case 'unlinked-window-add':
    case 'unlinked-window-close':
      return { type: name, windowId: rest.trim() };
    case 'window-renamed':
    case 'unlinked-window-renamed': {
      const [windowId, windowName] = head(rest);
      return { type: name, windowId, name: windowName };
    }
    case 'window-pane-changed': {
      const [windowId, paneId] = head(rest);
      return { type: name, windowId, paneId };
    }
    case 'layout-change': {
      const [windowId, more] = head(rest);
      const [layout, more2] = head(more);
      const [visibleLayout, flags] = head(more2);
      return { type: name, windowId, layout, visibleLayout, flags };
    }
    case 'pane-mode-changed':
      return { type: name, paneId: rest.trim() };
    case 'message':
      return { type: name, text: rest };
    case 'subscription-changed': {
      // %subscription-changed name $session @window index %pane ... : value
      const [subscription, more] = head(rest);
      const colon = more.indexOf(' : ');
      return { type: name, name: subscription, value: colon < 0 ? '' : more.slice(colon + 3) };
    }
    case 'exit':
      return { type: name, reason: rest };
    default:
      return { type: 'other', name, line };
  }
}

/**
 * Decodes the data of a `%output` line. tmux writes bytes below space and the backslash as a
 * three-digit octal escape (control.c, control_append_data) and every other byte as is, so this
 * works on bytes: UTF-8 decoding happens later, per pane, because a character can straddle lines.
 */
export function unescapeOutput(bytes: Uint8Array, start = 0): Uint8Array {
  const out = new Uint8Array(bytes.length - start);
  let length = 0;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x5c && isOctal(bytes[i + 1]) && isOctal(bytes[i + 2]) && isOctal(bytes[i + 3])) {
      out[length++] = ((bytes[i + 1] - 0x30) << 6) | ((bytes[i + 2] - 0x30) << 3) | (bytes[i + 3] - 0x30);
      i += 3;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function isOctal(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x37;
}
