// Package accesslog appends one line per HTTP request to a file, in the
// Combined Log Format of Apache and nginx:
//
//	192.0.2.7 - - [02/Jan/2026:15:04:05 +0000] "GET /checks?page=2 HTTP/1.1" 200 1534 "-" "curl/8.5.0"
//
// The user field is always "-": requests carry bearer tokens or a cookie, and
// no credential, header other than Referer and User-Agent, or cookie is ever
// written.
package accesslog

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File is an access log file, safe for concurrent use.
type File struct {
	path string

	mu sync.Mutex
	f  *os.File
}

// Open opens the log at path for appending, creating it (mode 0640) if need be.
func Open(path string) (*File, error) {
	l := &File{path: path}
	if err := l.Reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path is the file's name.
func (l *File) Path() string { return l.path }

// Reopen opens the file again by its name, so that a log moved away by a
// rotation goes on in a new file.
func (l *File) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		_ = old.Close() // every line written went to the kernel already
	}
	return nil
}

// Close closes the file; lines of requests still in flight are dropped.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func (l *File) write(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_, _ = l.f.Write(line) // a full disk must not fail the request
	}
}

// Handler logs each request next serves.
func (l *File) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		start := time.Now()
		defer func() {
			v := recover()
			if v != nil && rec.status == 0 {
				rec.status = http.StatusInternalServerError
			}
			l.write(Line(r, start, rec.status, rec.bytes))
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// Line formats the log line of request r, received at t and answered with
// status and a body of size bytes.
func Line(r *http.Request, t time.Time, status int, size int64) []byte {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if status == 0 {
		status = http.StatusOK // nothing written: net/http answers 200
	}
	b := make([]byte, 0, 160)
	b = append(b, field(host)...)
	b = append(b, " - - ["...)
	b = t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, escape(r.Method+" "+r.RequestURI+" "+r.Proto)...)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	if size > 0 {
		b = strconv.AppendInt(b, size, 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, " \""...)
	b = append(b, escape(field(r.Referer()))...)
	b = append(b, "\" \""...)
	b = append(b, escape(field(r.UserAgent()))...)
	b = append(b, "\"\n"...)
	return b
}

func field(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// escape keeps a field on its line and inside its quotes: quotes and
// backslashes are escaped, control and non-ASCII bytes written as \xHH.
func escape(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' || r == '"' || r == '\\' }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// recorder notes the status and the size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
