package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/x/flapjack/store"
)

// relationship serves /<types>/<id>/relationships/<rel> and /<types>/<id>/<rel>:
// GET answers the linkage (with include=<rel>, the records in included); POST adds
// ids to a writable to-many relationship, PATCH replaces them, DELETE removes them.
func (s *server) relationship(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.resourceFor(r)
	if err != nil {
		return err
	}
	id, name := r.PathValue("id"), r.PathValue("rel")
	spec, ok := rs.rels[name]
	if !ok {
		return errorf(http.StatusNotFound, "Not found: %s has no relationship %q", rs.path, name)
	}
	rec, err := rs.fetch(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return rs.notFound(id)
	} else if err != nil {
		return err
	}
	ids, err := rec.linkage(r.Context(), name)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		return s.getLinkage(w, r, rs, spec, ids)
	}
	if !slices.Contains([]string{http.MethodPost, http.MethodPatch, http.MethodDelete}, r.Method) {
		return methodNotAllowed(r)
	}
	if !spec.toMany || !rs.writable[name] || rs.link == nil || !strings.Contains(r.URL.Path, "/relationships/") {
		return errorf(http.StatusNotFound, "the %s relationship of %s cannot be changed", name, rs.path)
	}
	given, err := readLinkage(r, spec.typ)
	if err != nil {
		return err
	}
	if len(given) == 0 && r.Method != http.MethodPatch {
		return errorf(http.StatusForbidden, "No link ids")
	}
	next := slices.Clone(ids)
	switch r.Method {
	case http.MethodPost:
		next = append(next, given...)
	case http.MethodPatch:
		next = given
	case http.MethodDelete:
		next = slices.DeleteFunc(next, func(x string) bool { return slices.Contains(given, x) })
	}
	slices.Sort(next)
	if err := rs.link(r.Context(), id, name, slices.Compact(next)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getLinkage answers a relationship GET. Filters name the relationship's
// records' attributes after the relationship, "filter=states.condition:critical",
// and take the values of a collection's filters.
func (s *server) getLinkage(w http.ResponseWriter, r *http.Request, rs *resource, spec relSpec, ids []string) error {
	params := r.URL.Query()
	q, err := parseQuery(url.Values{"page": params["page"], "per_page": params["per_page"]}, rs, s)
	if err != nil {
		return err
	}
	target := s.resources[spec.typ]
	fetch := s.fetcher()
	if raw := append(params["filter"], params["filter[]"]...); len(raw) > 0 {
		filters := make([]filter, 0, len(raw))
		for _, f := range raw {
			attr, ok := strings.CutPrefix(f, r.PathValue("rel")+".")
			if !ok || target == nil {
				key, _, _ := strings.Cut(f, ":")
				return errorf(http.StatusForbidden, "Invalid filter key: %q", key)
			}
			parsed, err := parseFilter(attr, target)
			if err != nil {
				return err
			}
			filters = append(filters, parsed)
		}
		kept := ids[:0:0]
		for _, id := range ids {
			rec, err := fetch(r.Context(), target, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if !slices.ContainsFunc(filters, func(f filter) bool { return !f.match(value(rec, f.attr.name)) }) {
				kept = append(kept, id)
			}
		}
		ids = kept
	}
	total := len(ids)
	if spec.toMany {
		from, to := paginate(w, r, total, q.page, q.perPage, nil)
		ids = ids[from:to]
	}
	links := make([]identifier, 0, len(ids))
	for _, id := range ids {
		links = append(links, identifier{Type: spec.typ, ID: id})
	}
	doc := map[string]any{"links": map[string]string{"self": requestURL(r)}}
	if spec.toMany {
		doc["data"] = links
	} else if len(links) > 0 {
		doc["data"] = links[0]
	} else {
		doc["data"] = nil
	}
	if inc := params.Get("include"); inc != "" {
		if inc != r.PathValue("rel") || target == nil || !spec.includable {
			return errorf(http.StatusForbidden, "Invalid include: %q", inc)
		}
		included := []any{}
		q := &query{}
		for _, id := range ids {
			rec, err := fetch(r.Context(), target, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			included = append(included, s.object(baseURL(r), target, rec, q, nil))
		}
		doc["included"] = included
	}
	if spec.toMany {
		paginate(w, r, total, q.page, q.perPage, doc)
	}
	writeDoc(w, http.StatusOK, doc)
	return nil
}

// readLinkage reads a relationship write's body: {"data":[{"type","id"}…]}.
func readLinkage(r *http.Request, typ string) ([]string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != MediaType {
		if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
			return nil, errorf(http.StatusMethodNotAllowed, "form parameters are not accepted: send %s", MediaType)
		}
		return nil, errorf(http.StatusUnsupportedMediaType, "Content-Type must be %s", MediaType)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "could not read the request body")
	}
	var doc struct {
		Data jsonRaw `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errorf(http.StatusForbidden, "Data object must be provided")
	}
	ids, _, null, err := parseLinkage(doc.Data.bytes(), typ)
	if err != nil {
		return nil, errorf(http.StatusForbidden, "%v", err)
	}
	if null {
		return nil, nil
	}
	return ids, nil
}
