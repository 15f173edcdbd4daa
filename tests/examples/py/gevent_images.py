#!/usr/bin/env python3
"""gevent_images.c in Python: the gevent image downloader it mirrors.

    gevent_images.py PAGE_URL [OUTDIR]

Fetches the page, finds its <img src>s, downloads each in a greenlet of its
own with urllib (made cooperative by monkey-patching), saves it to
OUTDIR/NAME (default ".") and prints "NAME SIZE" as each completes, then
"N images, F failed".  Needs gevent (Debian: python3-gevent).
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
import sys  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from html.parser import HTMLParser  # noqa: E402

import gevent  # noqa: E402

# No proxies: the URLs are local, as for the C program.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ImgSrcs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs += [v for k, v in attrs if k == "src" and v]


def get(url):
    with opener.open(url, timeout=60) as r:
        return r.geturl(), r.read()


def download(url, outdir):
    name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    try:
        _, body = get(url)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(body)
    except Exception as e:  # one image failing does not stop the others
        print("%s: %s" % (url, e), file=sys.stderr)
        return False
    print(name, len(body))
    return True


def main():
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(__doc__)
    outdir = sys.argv[2] if len(sys.argv) > 2 else "."
    page = gevent.spawn(get, sys.argv[1])
    page.join()
    if not page.successful():
        sys.exit("%s: could not fetch the page: %s"
                 % (sys.argv[1], page.exception))
    base, body = page.value
    parser = ImgSrcs()
    parser.feed(body.decode("utf-8", "replace"))
    jobs = [gevent.spawn(download, urllib.parse.urljoin(base, src), outdir)
            for src in parser.srcs]
    gevent.joinall(jobs)
    failed = sum(1 for j in jobs if not j.value)
    print("%d images, %d failed" % (len(jobs), failed))
    sys.exit(0 if jobs and not failed else 1)


if __name__ == "__main__":
    main()
