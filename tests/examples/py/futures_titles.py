#!/usr/bin/env python3
"""futures_titles.c in Python: concurrent.futures with requests.

    futures_titles.py URL...

Submits one requests.get() per URL to a ThreadPoolExecutor(8) with
add_done_callback(parse), which prints "done URL TITLE" in completion
order; then the same URLs through executor.map(), printed as
"map URL TITLE" in input order.  Titles are parsed with lxml (libxml2,
as in the C program) when it is installed, html.parser otherwise.
Needs requests (Debian: python3-requests).
"""
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

try:
    import lxml.html

    def title_of(body):
        doc = lxml.html.document_fromstring(body)
        return " ".join("".join(doc.xpath("string(//title[1])")).split())
except ImportError:
    from html.parser import HTMLParser

    class Title(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.parts, self.seen = 0, [], False

        def handle_starttag(self, tag, attrs):
            if tag == "title" and not self.seen:
                self.depth = 1

        def handle_endtag(self, tag):
            if tag == "title" and self.depth:
                self.depth, self.seen = 0, True

        def handle_data(self, data):
            if self.depth:
                self.parts.append(data)

    def title_of(body):
        p = Title()
        p.feed(body.decode("utf-8", "replace"))
        return " ".join("".join(p.parts).split())


def get(url):
    r = requests.get(url, timeout=60)
    r.raise_for_status()
    r.request_url = url  # the URL asked for, before any redirect
    return r


def parse(fut):
    try:
        r = fut.result()
    except Exception as e:
        print("failed %s" % e, flush=True)
        return
    print("done", r.request_url, title_of(r.content), flush=True)


def main():
    urls = sys.argv[1:]
    if not urls:
        sys.exit(__doc__)
    failed = 0
    with ThreadPoolExecutor(8) as ex:
        futs = [ex.submit(get, u) for u in urls]
        for f in futs:
            f.add_done_callback(parse)
    failed += sum(1 for f in futs if f.exception())
    with ThreadPoolExecutor(8) as ex:
        try:
            for url, r in zip(urls, ex.map(get, urls)):
                print("map", url, title_of(r.content))
        except Exception as e:  # map re-raises the first failure
            print("map failed: %s" % e)
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
