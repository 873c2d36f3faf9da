import envPaths from 'env-paths';

/**
 * Where the platform keeps an application's data and configuration:
 * `~/.local/share/allsource` and `~/.config/allsource` on Linux (XDG variables honoured),
 * `~/Library/Application Support/allsource` and `~/Library/Preferences/allsource` on macOS,
 * `%LOCALAPPDATA%\allsource\Data` and `...\Config` on Windows.
 */
export function platformDirs(): { dataDir: string; configDir: string } {
  const paths = envPaths('allsource', { suffix: '' });
  return { dataDir: paths.data, configDir: paths.config };
}
