"""Screenshots of the built documentation site, as a reader sees it at 1280 px.

Usage: python docs/scripts/screenshots.py [--site site] [--out docs/img/site]

Builds the site (`mkdocs build`) unless `--no-build`, serves it on 127.0.0.1,
and saves full-window PNGs of the home page, one tutorial and one API page with
headless Chromium (Debian's `chromium` package: `apt-get install chromium`).
Reviewers look at these files to see what readers see.
"""

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "home.png": "",
    "tutorial.png": "notebooks/quickstart/",
    "api_attacks.png": "api/attacks/",
}
WINDOW = "1280,1600"
# Flags that keep Chromium off the network and quiet on a machine with no display.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("Chromium not found: install it (Debian: apt-get install chromium) and rerun.")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(site):
    """Starts a static server of `site` on a free local port; returns (server, base_url)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def screenshot(chromium, url, path):
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={WINDOW}",
                f"--screenshot={path}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="site", help="built site folder (default: site)")
    parser.add_argument("--out", default="docs/img/site", help="output folder (default: docs/img/site)")
    parser.add_argument("--no-build", action="store_true", help="use the built site as it is")
    args = parser.parse_args()
    chromium = find_chromium()
    site, out = ROOT / args.site, ROOT / args.out
    if not args.no_build:
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(site)], cwd=ROOT, check=True
        )
    out.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    try:
        for name, page in PAGES.items():
            screenshot(chromium, base + page, out / name)
            print(f"{out.relative_to(ROOT) / name}: {base + page}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
