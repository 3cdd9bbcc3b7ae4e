package api

import (
	"encoding/json"
	"net/http"

	"go.yaml.in/yaml/v3"
)

// routeMux is the ServeMux of Handler. It keeps the patterns it is given, so
// that GET /doc describes every route the server has.
type routeMux struct {
	*http.ServeMux
	patterns *[]string
}

// Handle registers h for pattern.
func (m routeMux) Handle(pattern string, h http.Handler) {
	*m.patterns = append(*m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers h for pattern.
func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// getDoc answers GET /doc: the OpenAPI description of the API, made from the
// resources and the routes the server serves; as JSON, or as YAML with
// ?format=yaml.
func (s *server) getDoc(w http.ResponseWriter, r *http.Request) error {
	var (
		b     []byte
		err   error
		ctype string
	)
	doc := s.openAPI(baseURL(r))
	switch format := r.URL.Query().Get("format"); format {
	case "", "json":
		b, err = json.Marshal(doc)
		ctype = "application/json; charset=utf-8"
	case "yaml":
		b, err = yaml.Marshal(doc)
		ctype = "application/yaml; charset=utf-8"
	default:
		return errorf(http.StatusForbidden, "format must be json or yaml, not %q", format)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(b)
	return nil
}
