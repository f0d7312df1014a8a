package browserpath_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/chromium/chromiumtest"
	"github.com/isahit/s3grant/verify/browserpath"
)

// needChromium skips the test without Chromium, or fails it when CI=true.
func needChromium(t *testing.T) { chromiumtest.Require(t) }

func browse(t *testing.T, objects []browserpath.SignedObject) browserpath.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := browserpath.Browse(ctx, objects, origins, browserpath.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("Browse: %v", err)
	}
	return rep
}

// In real headless Chromium, on pages served as https://lab.isahit.com and
// https://work.isahit.com, the PNG loads and decodes through both presigned URLs; with a
// proxy stripping Access-Control-Allow-Origin from the GET (the preflight still passing),
// Chromium blocks every one, and says it is the missing header; an object that is not the
// image its key names fails to decode.
func TestBrowseInChromium(t *testing.T) {
	needChromium(t)
	w := start(t)
	b := goodBucket(t)
	b.Objects["images/broken.png"] = []byte("not a png")
	b.Meta["images/broken.png"] = s3fake.ObjectMeta{ContentType: "image/png"}
	w.fake.PutBucket(b)
	good := w.signed(t, imgKey, "notes/readme.txt")

	t.Run("correct setup, one broken image", func(t *testing.T) {
		rep := browse(t, append(w.signed(t, "images/broken.png"), good...))
		var broken []string
		for _, f := range rep.Failures() {
			if f.Object.Key != "images/broken.png" || f.Kind != browserpath.DecodeFailed {
				t.Errorf("%s", f)
			}
			broken = append(broken, f.Origin+" "+f.Object.Via)
		}
		if len(broken) != 4 {
			t.Errorf("the broken image failed %v, want via both URLs from both origins", broken)
		}
		d := rep.Objects[2].Origins[1].Steps[0].Detail
		if !strings.Contains(d, "decoded a 3x2 image") || !strings.Contains(d, "https://work.isahit.com") {
			t.Errorf("detail %q does not show the decode from the second origin", d)
		}
	})
	t.Run("proxy strips Access-Control-Allow-Origin", func(t *testing.T) {
		w.fake.Inject(s3fake.StripAllowOrigin)
		defer w.fake.Clear()
		rep := browse(t, good)
		if got := rep.Kinds(); !slices.Equal(got, []browserpath.Kind{browserpath.MissingAllowOrigin}) {
			t.Fatalf("kinds %v: %v", got, rep.Failures())
		}
		if n := len(rep.Failures()); n != 8 {
			t.Errorf("%d failures, want every object from every origin (8)", n)
		}
		if d := rep.Failures()[0].Detail; !strings.Contains(d, "MissingAllowOriginHeader") {
			t.Errorf("detail %q does not give Chromium's CORS error", d)
		}
	})
}

// Without Chromium, Browse says how to install it.
func TestBrowseWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CHROMIUM", "")
	_, err := browserpath.Browse(context.Background(), []browserpath.SignedObject{{Key: "a.png", URL: "http://127.0.0.1:1/b/a.png"}}, origins)
	if !errors.Is(err, browserpath.ErrNoChromium) || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Fatalf("err = %v, want ErrNoChromium saying how to install it", err)
	}
}
