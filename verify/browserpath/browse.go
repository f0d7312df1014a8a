package browserpath

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/isahit/s3grant/internal/chromium"
)

// ErrNoChromium is returned (wrapped) by Browse when no Chromium is installed; its message
// says how to install one.
var ErrNoChromium = chromium.ErrNotFound

// Browse has a real headless Chromium load every object from every origin, exactly as the
// annotator's browser does: a page served as the origin (each origin's host is mapped to a
// local server with --host-resolver-rules) fetch()es each presigned URL in CORS mode and, for
// an image, decodes it with createImageBitmap and draws it through an <img crossorigin> on a
// canvas whose pixels the page then reads (a canvas refuses that without CORS). Each object
// and origin gets one StepDecode outcome, with the browser's own CORS error when it blocks
// the response. The page's fetch adds no header of its own, as an <img> does not: the
// preflight with the apps' request headers is Prove's.
//
// For an https origin the local server has a certificate made for the run, and Chromium
// ignores certificate errors only for that certificate's public key
// (--ignore-certificate-errors-spki-list): the requests to S3 keep full TLS verification.
//
// The error is for bad input, a missing Chromium (ErrNoChromium, saying how to install it),
// a browser that cannot start, or the context ending.
func Browse(ctx context.Context, objects []SignedObject, origins []string, opts ...Option) (Report, error) {
	if err := validate(objects, origins); err != nil {
		return Report{}, err
	}
	o := newOptions(opts)
	exe, err := chromium.Path()
	if err != nil {
		return Report{}, fmt.Errorf("the browser check needs Chromium: %w", err)
	}
	site, err := serveOrigins(origins)
	if err != nil {
		return Report{}, err
	}
	defer site.close()
	profile, err := os.MkdirTemp("", "s3grant-chromium-")
	if err != nil {
		return Report{}, err
	}
	defer os.RemoveAll(profile)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, chromium.Options(exe,
		chromedp.UserDataDir(profile),
		chromedp.Flag("host-resolver-rules", site.resolverRules),
		chromedp.Flag("ignore-certificate-errors-spki-list", site.spki),
	)...)
	defer cancelAlloc()
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(browserCtx); err != nil {
		if ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		return Report{}, fmt.Errorf("chromium (%s) does not start: %w", exe, err)
	}
	results := map[string][]Outcome{} // by origin, one per object
	for _, origin := range origins {
		outs, err := o.browseOrigin(browserCtx, objects, origin)
		if ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		if err != nil {
			return Report{}, err
		}
		results[origin] = outs
	}
	var rep Report
	for i, obj := range objects {
		res := ObjectResult{Object: obj}
		for _, origin := range origins {
			res.Origins = append(res.Origins, OriginResult{Origin: origin, Steps: []Outcome{results[origin][i]}})
		}
		rep.Objects = append(rep.Objects, res)
	}
	return rep, nil
}

// pagePath is where the page is served, on every origin.
const pagePath = "/.s3grant-browser-proof"

// page loads each URL as the vendor's apps do and reports, per URL, what the browser saw.
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>s3grant browser proof</title></head>
<body><canvas id="c" width="1" height="1"></canvas>
<script>
async function viaImg(url) {
  const img = new Image();
  img.crossOrigin = "anonymous";
  img.src = url;
  await img.decode();
  const ctx = document.getElementById("c").getContext("2d");
  ctx.drawImage(img, 0, 0, 1, 1);
  ctx.getImageData(0, 0, 1, 1); // throws on a canvas tainted by a response without CORS
  return [img.naturalWidth, img.naturalHeight];
}
async function load(url, image, ms) {
  const r = {url: url};
  try {
    const resp = await fetch(url, {mode: "cors", credentials: "omit", cache: "no-store", signal: AbortSignal.timeout(ms)});
    r.status = resp.status;
    r.type = resp.headers.get("content-type") || "";
    const blob = await resp.blob();
    r.bytes = blob.size;
    if (!resp.ok) { r.error = "HTTP " + resp.status; return r; }
    if (!image) { r.ok = true; return r; }
    const bmp = await createImageBitmap(blob);
    r.width = bmp.width; r.height = bmp.height;
    bmp.close();
  } catch (e) {
    r.error = "fetch: " + e.name + ": " + e.message;
    return r;
  }
  try {
    await viaImg(url);
    r.ok = true;
  } catch (e) {
    r.error = "<img crossorigin>: " + e.name + ": " + e.message;
  }
  return r;
}
window.s3grantProve = async (items, ms) => {
  const out = [];
  for (const it of items) { out.push(await load(it.url, it.image, ms)); }
  return out;
};
</script></body></html>
`

// isImage reports whether the key names an image type the page decodes.
func isImage(key string) bool {
	return strings.HasPrefix(mediaTypes[strings.ToLower(path.Ext(key))], "image/")
}

type pageResult struct {
	OK     bool   `json:"ok"`
	Status int    `json:"status"`
	Type   string `json:"type"`
	Bytes  int64  `json:"bytes"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Error  string `json:"error"`
}

// browseOrigin opens the page as origin in a new tab and loads every object from it.
func (o options) browseOrigin(ctx context.Context, objects []SignedObject, origin string) ([]Outcome, error) {
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	perObject := o.timeout
	tab, cancelTimeout := context.WithTimeout(tab, perObject*time.Duration(2*len(objects)+1))
	defer cancelTimeout()
	seen := newCORSErrors()
	if err := chromedp.Listen(tab, seen.record); err != nil {
		return nil, err
	}
	if err := chromedp.Do(tab, chromedp.Navigate(origin+pagePath)); err != nil {
		return nil, fmt.Errorf("chromium cannot open the page served as %s: %w", origin, err)
	}
	type item struct {
		URL   string `json:"url"`
		Image bool   `json:"image"`
	}
	var items []item
	for _, obj := range objects {
		items = append(items, item{obj.URL, isImage(obj.Key)})
	}
	arg, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	expr := fmt.Sprintf("window.s3grantProve(%s, %d)", arg, perObject.Milliseconds())
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]pageResult](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("loading the objects in chromium from %s: %w", origin, err)
	}
	if len(got) != len(objects) {
		return nil, fmt.Errorf("the page from %s reported %d results for %d objects", origin, len(got), len(objects))
	}
	outs := make([]Outcome, len(objects))
	for i, r := range got {
		outs[i] = judgeDecode(r, objects[i], origin, seen.of(objects[i].URL))
	}
	return outs, nil
}

func judgeDecode(r pageResult, obj SignedObject, origin string, corsErr string) Outcome {
	out := Outcome{Step: StepDecode, Status: r.Status}
	switch {
	case r.OK && isImage(obj.Key):
		out.Detail = fmt.Sprintf("Chromium on %s fetched the object (HTTP %d, %s, %d bytes), decoded a %dx%d image and read it back from a canvas", origin, r.Status, r.Type, r.Bytes, r.Width, r.Height)
	case r.OK:
		out.Detail = fmt.Sprintf("Chromium on %s fetched the object in CORS mode (HTTP %d, %s, %d bytes); it is not an image, so it was not decoded", origin, r.Status, r.Type, r.Bytes)
	case corsErr != "":
		out.Kind = DecodeFailed
		switch {
		case strings.HasPrefix(corsErr, "Preflight"):
			out.Kind = PreflightDenied
		case corsErr == string(network.CorsErrorMissingAllowOriginHeader) || corsErr == string(network.CorsErrorAllowOriginMismatch) ||
			corsErr == string(network.CorsErrorMultipleAllowOriginValues) || corsErr == string(network.CorsErrorInvalidAllowOriginValue):
			out.Kind = MissingAllowOrigin
		}
		out.Detail = fmt.Sprintf("Chromium on %s blocked the response: CORS error %s (%s)", origin, corsErr, r.Error)
	case r.Status == http.StatusForbidden:
		out.Kind, out.Detail = Forbidden, fmt.Sprintf("Chromium on %s got HTTP 403 for the object", origin)
	case r.Status != 0 && (r.Status < 200 || r.Status > 299):
		out.Kind, out.Detail = HTTPStatus, fmt.Sprintf("Chromium on %s got HTTP %d for the object", origin, r.Status)
	default:
		out.Kind, out.Detail = DecodeFailed, fmt.Sprintf("Chromium on %s could not load the object as an image: %s", origin, r.Error)
	}
	return out
}

// corsErrors remembers, per URL, the CORS errors and network failures Chromium reported.
type corsErrors struct {
	mu    sync.Mutex
	urls  map[network.RequestID]string
	fails map[string]string
}

func newCORSErrors() *corsErrors {
	return &corsErrors{urls: map[network.RequestID]string{}, fails: map[string]string{}}
}

// record is a chromedp listener: it must return fast and run no command.
func (c *corsErrors) record(ev any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		c.urls[ev.RequestID] = ev.Request.URL
	case *network.EventLoadingFailed:
		u, ok := c.urls[ev.RequestID]
		if !ok || c.fails[u] != "" {
			return
		}
		switch {
		case ev.CorsErrorStatus != nil:
			c.fails[u] = string(ev.CorsErrorStatus.CorsError)
		case ev.BlockedReason != "":
			c.fails[u] = "blocked: " + string(ev.BlockedReason)
		}
	}
}

func (c *corsErrors) of(u string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fails[u]
}

// originSite serves the page on loopback for every origin, over TLS for https origins.
type originSite struct {
	servers       []*http.Server
	resolverRules string
	spki          string
}

func (s *originSite) close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
}

func serveOrigins(origins []string) (*originSite, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pagePath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(page))
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	site := &originSite{}
	var hosts []string
	listen := func(tlsConfig *tls.Config) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("serving the page as the vendor's origin: %w", err)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig}
		site.servers = append(site.servers, srv)
		if tlsConfig != nil {
			ln = tls.NewListener(ln, tlsConfig)
		}
		go func() { _ = srv.Serve(ln) }()
		return ln.Addr().String(), nil
	}
	var secureHosts []string
	for _, o := range origins {
		if u, _ := url.Parse(o); u.Scheme == "https" {
			secureHosts = append(secureHosts, u.Hostname())
		}
	}
	addr := map[string]string{}
	if len(secureHosts) > 0 {
		cert, spki, err := selfSigned(secureHosts)
		if err != nil {
			return nil, err
		}
		site.spki = spki
		if addr["https"], err = listen(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}); err != nil {
			site.close()
			return nil, err
		}
	}
	for _, o := range origins {
		u, _ := url.Parse(o)
		if addr[u.Scheme] == "" {
			var err error
			if addr[u.Scheme], err = listen(nil); err != nil {
				site.close()
				return nil, err
			}
		}
		hosts = append(hosts, fmt.Sprintf("MAP %s %s", u.Hostname(), addr[u.Scheme]))
	}
	site.resolverRules = strings.Join(hosts, ", ")
	return site, nil
}

// selfSigned makes a certificate for hosts, valid for an hour, and the base64 SHA-256 of its
// public key, as --ignore-certificate-errors-spki-list takes it.
func selfSigned(hosts []string) (tls.Certificate, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "s3grant browser proof"},
		DNSNames: hosts, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	sum := sha256.Sum256(parsed.RawSubjectPublicKeyInfo)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed}, base64.StdEncoding.EncodeToString(sum[:]), nil
}
