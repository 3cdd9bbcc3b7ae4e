package api

import (
	"net/http"
	"slices"
	"strconv"
)

// getDoc answers GET /doc: a Swagger 2.0 outline of the API, made from the
// resources it serves.
func (s *server) getDoc(w http.ResponseWriter, r *http.Request) error {
	paths := map[string]any{}
	op := func(summary string, codes ...int) map[string]any {
		resp := map[string]any{}
		for _, c := range codes {
			resp[strconv.Itoa(c)] = map[string]string{"description": http.StatusText(c)}
		}
		return map[string]any{"summary": summary, "produces": []string{responseContentType}, "responses": resp}
	}
	types := make([]string, 0, len(s.byPath))
	for p := range s.byPath {
		types = append(types, p)
	}
	slices.Sort(types)
	for _, p := range types {
		rs := s.byPath[p]
		coll := map[string]any{"get": op("list "+p, 200, 403)}
		one := map[string]any{"get": op("get one of "+p, 200, 404)}
		if rs.create != nil {
			coll["post"] = op("create "+p, 201, 403, 404, 405, 406, 409)
		}
		if rs.update != nil {
			coll["patch"] = op("update several "+p, 204, 403, 404, 406, 409)
			one["patch"] = op("update one of "+p, 204, 403, 404, 406, 409)
		}
		if rs.remove != nil {
			coll["delete"] = op("delete several "+p, 204, 404, 406)
			one["delete"] = op("delete one of "+p, 204, 404)
		}
		paths["/"+p] = coll
		paths["/"+p+"/{id}"] = one
		for name := range rs.rels {
			rel := map[string]any{"get": op(name+" of one of "+p, 200, 404)}
			if rs.writable[name] {
				rel["post"] = op("add to "+name, 204, 403, 404)
				rel["patch"] = op("replace "+name, 204, 403, 404)
				rel["delete"] = op("remove from "+name, 204, 403, 404)
			}
			paths["/"+p+"/{id}/relationships/"+name] = rel
		}
	}
	paths["/metrics"] = map[string]any{"get": op("metrics", 200)}
	paths["/acknowledgements"] = map[string]any{"post": op("acknowledge failing checks", 201, 403, 404)}
	paths["/test_notifications"] = map[string]any{"post": op("send test notifications", 201, 403, 404)}
	writeDoc(w, http.StatusOK, map[string]any{
		"swagger":  "2.0",
		"info":     map[string]string{"title": "Flapjack API", "version": "2"},
		"host":     r.Host,
		"consumes": []string{MediaType},
		"paths":    paths,
	})
	return nil
}
