package s3fake

import "net/http"

// A Fault is something in front of S3 that breaks the browser's path while S3 itself is set up
// right, such as a proxy or CDN that rewrites responses. Tests switch faults on with Inject.
type Fault int

const (
	// StripAllowOrigin removes Access-Control-Allow-Origin from GET and HEAD responses while
	// preflights still pass, as a proxy or CDN that does not forward CORS headers does.
	StripAllowOrigin Fault = iota + 1
	// StripVary removes Vary from GET and HEAD responses, as a cache that rewrites it does:
	// a shared cache may then serve one origin's CORS answer to another.
	StripVary
	// IgnoreRange drops the Range header of GET requests, as a proxy that does not forward
	// it does: the whole object comes back with 200.
	IgnoreRange
)

// Inject switches fault on for every later request, until Clear.
func (f *Fake) Inject(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults = map[Fault]bool{}
	}
	f.faults[fault] = true
}

// Clear switches every injected fault off.
func (f *Fake) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// inFront applies the injected faults to a request and its response, as a proxy in front of
// S3 would. The caller holds f.mu.
func (f *Fake) inFront(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || len(f.faults) == 0 {
		return w
	}
	if f.faults[IgnoreRange] {
		r.Header.Del("Range")
	}
	var strip []string
	if f.faults[StripAllowOrigin] {
		strip = append(strip, "Access-Control-Allow-Origin")
	}
	if f.faults[StripVary] {
		strip = append(strip, "Vary")
	}
	if len(strip) == 0 {
		return w
	}
	return &stripping{ResponseWriter: w, strip: strip}
}

// stripping is a ResponseWriter that removes headers when the response is written.
type stripping struct {
	http.ResponseWriter
	strip []string
	done  bool
}

func (s *stripping) WriteHeader(status int) {
	if !s.done {
		s.done = true
		for _, h := range s.strip {
			s.Header().Del(h)
		}
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *stripping) Write(b []byte) (int, error) {
	if !s.done {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}
