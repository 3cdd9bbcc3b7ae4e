package web

import (
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LogoTypes are the file name extensions a custom logo may have.
var LogoTypes = []string{"png", "jpg", "jpeg", "gif", "svg", "webp"}

// Logo is a custom image shown in the navigation bar instead of the name
// Flapjack, served at <prefix>/img/branding.<Ext>.
type Logo struct {
	// Ext is the image's type, one of LogoTypes.
	Ext  string
	Data []byte
}

// ReadLogo reads the logo file at path; its extension must be one of LogoTypes.
func ReadLogo(path string) (*Logo, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if !slices.Contains(LogoTypes, ext) {
		return nil, fmt.Errorf("%s: a logo must be a %s file", path, strings.Join(LogoTypes, ", "))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", path)
	}
	return &Logo{Ext: ext, Data: data}, nil
}

// path is where the logo is served, below the prefix.
func (l *Logo) path() string { return "/img/branding." + l.Ext }

// ServeHTTP serves the image. An SVG may hold scripts: the policy keeps them
// from running should someone open the image itself.
func (l *Logo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", mime.TypeByExtension("."+l.Ext))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(l.Data)
}
