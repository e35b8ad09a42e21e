// The command-line tool shares src/tmux and src/core with the extension; its commands arrive with
// the issues that need them. For now it answers --version and says what it will do.
const args = process.argv.slice(2);
if (args.includes('--version')) {
  console.log('tmux-session-manager 0.1.0');
} else {
  console.error('tmux-session-manager: no commands yet; use the VS Code extension.');
  process.exitCode = 2;
}
