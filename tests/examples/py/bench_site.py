#!/usr/bin/env python3
"""Write the timing input of the examples and of their Python versions.

    bench_site.py DIR BASE_URL [IMAGES [PAGES]]

DIR/gallery/index.html: a page with IMAGES (default 500) <img>s of
DIR/gallery/img/NNNN.png, 4-16 KiB of random bytes each;
DIR/pages/pNNNN.html: PAGES (default 500) pages of 2-6 KiB, each with its
<title>; DIR/pages.txt: their URLs under BASE_URL (where DIR will be
served), one per line.  The same seed gives the same site every time.
"""
import random
import sys
from pathlib import Path


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    top, base = Path(sys.argv[1]), sys.argv[2].rstrip("/")
    nimg = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    npages = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    rnd = random.Random(1)
    (top / "gallery" / "img").mkdir(parents=True, exist_ok=True)
    (top / "pages").mkdir(parents=True, exist_ok=True)
    imgs = []
    for i in range(nimg):
        name = "%04d.png" % i
        (top / "gallery" / "img" / name).write_bytes(
            rnd.randbytes(rnd.randint(4096, 16384)))
        imgs.append('<p><img src="img/%s" alt="picture %d"></p>' % (name, i))
    (top / "gallery" / "index.html").write_text(
        "<!DOCTYPE html>\n<html><head><title>Gallery</title></head>\n"
        "<body>\n%s\n</body></html>\n" % "\n".join(imgs))
    urls = []
    for i in range(npages):
        words = " ".join(rnd.choice(["lorem", "ipsum", "dolor", "sit",
                                     "amet", "consectetur", "adipiscing"])
                         for _ in range(rnd.randint(300, 900)))
        (top / "pages" / ("p%04d.html" % i)).write_text(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
            "<title>Page %d of %d</title></head>\n<body><p>%s</p></body>"
            "</html>\n" % (i, npages, words))
        urls.append("%s/pages/p%04d.html" % (base, i))
    (top / "pages.txt").write_text("".join(u + "\n" for u in urls))


if __name__ == "__main__":
    main()
