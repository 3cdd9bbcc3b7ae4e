package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// ident is a resource identifier.
type ident struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// wireRel is a relationship as sent and received.
type wireRel struct {
	Data json.RawMessage `json:"data,omitempty"`
}

// wireObject is a resource object as sent and received.
type wireObject struct {
	Type          string             `json:"type"`
	ID            string             `json:"id,omitempty"`
	Attributes    json.RawMessage    `json:"attributes,omitempty"`
	Relationships map[string]wireRel `json:"relationships,omitempty"`
}

// linkage reads the ids of the relationships that carry data.
func (o *wireObject) linkage() map[string][]string {
	out := map[string][]string{}
	for name, r := range o.Relationships {
		d := bytes.TrimSpace(r.Data)
		switch {
		case len(d) == 0:
			continue
		case string(d) == "null":
			out[name] = nil
		case d[0] == '[':
			var list []ident
			if json.Unmarshal(d, &list) == nil {
				ids := make([]string, 0, len(list))
				for _, l := range list {
					ids = append(ids, l.ID)
				}
				out[name] = ids
			}
		default:
			var one ident
			if json.Unmarshal(d, &one) == nil {
				out[name] = []string{one.ID}
			}
		}
	}
	return out
}

func (o *wireObject) object() Object {
	return Object{Type: o.Type, ID: o.ID, Attributes: o.Attributes, Relationships: o.linkage()}
}

// toOne returns the body of a to-one relationship to typ/id.
func toOne(typ, id string) wireRel {
	b, _ := json.Marshal(ident{typ, id})
	return wireRel{Data: b}
}

// toMany returns the body of a to-many relationship to typ/ids.
func toMany(typ string, ids []string) wireRel {
	list := make([]ident, 0, len(ids))
	for _, id := range ids {
		list = append(list, ident{typ, id})
	}
	b, _ := json.Marshal(list)
	return wireRel{Data: b}
}

// record is what every resource type does for the generic service.
type record[T any] interface {
	*T
	// setID sets the id and the relationships' linkage from an answer.
	fill(id string, rels map[string][]string)
}

// writable is a record that can be created: it makes its request object.
type writable interface {
	wire() (wireObject, error)
}

// Attrs are attributes to change with Update: only those given change. A nil
// value sets the attribute to null.
type Attrs map[string]any

type service[T any, PT record[T]] struct {
	c    *Client
	path string
}

// decode reads a resource object into a T.
func decode[T any, PT record[T]](o *wireObject) (*T, error) {
	t := new(T)
	if len(o.Attributes) > 0 {
		if err := json.Unmarshal(o.Attributes, t); err != nil {
			return nil, err
		}
	}
	PT(t).fill(o.ID, o.linkage())
	return t, nil
}

// Get returns the record with id. opts may name includes and fields.
func (s service[T, PT]) Get(ctx context.Context, id string, opts *ListOptions) (*T, error) {
	_, b, err := s.c.do(ctx, http.MethodGet, "/"+s.path+"/"+url.PathEscape(id), opts.values(), "", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data wireObject `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return decode[T, PT](&doc.Data)
}

// List returns one page of the collection.
func (s service[T, PT]) List(ctx context.Context, opts *ListOptions) (*Page[T], error) {
	_, b, err := s.c.do(ctx, http.MethodGet, "/"+s.path, opts.values(), "", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data     []wireObject `json:"data"`
		Included []wireObject `json:"included"`
		Meta     struct {
			Pagination Pagination `json:"pagination"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	p := &Page[T]{Items: make([]T, 0, len(doc.Data)), Pagination: doc.Meta.Pagination}
	for i := range doc.Data {
		t, err := decode[T, PT](&doc.Data[i])
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, *t)
	}
	for i := range doc.Included {
		p.Included = append(p.Included, doc.Included[i].object())
	}
	return p, nil
}

// All iterates over every record of the collection, getting page after page
// from opts.Page (default 1). It stops at the first error, which it yields.
func (s service[T, PT]) All(ctx context.Context, opts *ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		o := ListOptions{}
		if opts != nil {
			o = *opts
		}
		if o.Page < 1 {
			o.Page = 1
		}
		for {
			p, err := s.List(ctx, &o)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, t := range p.Items {
				if !yield(t, nil) {
					return
				}
			}
			if len(p.Items) == 0 || o.Page >= p.Pagination.TotalPages {
				return
			}
			o.Page++
		}
	}
}

// ListAll returns every record of the collection, all pages.
func (s service[T, PT]) ListAll(ctx context.Context, opts *ListOptions) ([]T, error) {
	var out []T
	for t, err := range s.All(ctx, opts) {
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// create posts in and returns the created records. When the server created
// more records than its answer holds (a scheduled maintenance for a tag), the
// others, named by the Location header, are fetched.
func (s service[T, PT]) create(ctx context.Context, ins []wireObject, bulk bool) ([]*T, error) {
	var body any = map[string]any{"data": ins[0]}
	ctype := MediaType
	if bulk {
		body, ctype = map[string]any{"data": ins}, MediaType+"; ext=bulk"
	}
	h, b, err := s.c.do(ctx, http.MethodPost, "/"+s.path, nil, ctype, body)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var objs []wireObject
	if bulk {
		err = json.Unmarshal(doc.Data, &objs)
	} else {
		objs = make([]wireObject, 1)
		err = json.Unmarshal(doc.Data, &objs[0])
	}
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(objs))
	for i := range objs {
		t, err := decode[T, PT](&objs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if loc := h.Get("Location"); loc != "" {
		ids := strings.Split(loc[strings.LastIndex(loc, "/")+1:], ",")
		for _, id := range ids[min(len(out), len(ids)):] {
			t, err := s.Get(ctx, id, nil)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

func createOne[T any, PT record[T], W writable](ctx context.Context, s service[T, PT], in W) (*T, error) {
	o, err := in.wire()
	if err != nil {
		return nil, err
	}
	out, err := s.create(ctx, []wireObject{o}, false)
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return nil, errors.New("flapjack: the server created no record")
	}
	return out[0], nil
}

func createMany[T any, PT record[T], W writable](ctx context.Context, s service[T, PT], ins []W) ([]*T, error) {
	if len(ins) == 0 {
		return nil, nil
	}
	objs := make([]wireObject, 0, len(ins))
	for _, in := range ins {
		o, err := in.wire()
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return s.create(ctx, objs, true)
}

// update patches the record id of type typ with attrs and rels.
func (s service[T, PT]) update(ctx context.Context, typ, id string, attrs Attrs, rels map[string]wireRel) error {
	o := wireObject{Type: typ, ID: id, Relationships: rels}
	if len(attrs) > 0 {
		b, err := json.Marshal(attrs)
		if err != nil {
			return err
		}
		o.Attributes = b
	}
	_, _, err := s.c.do(ctx, http.MethodPatch, "/"+s.path+"/"+url.PathEscape(id), nil, MediaType, map[string]any{"data": o})
	return err
}

// Delete deletes the record with id.
func (s service[T, PT]) Delete(ctx context.Context, id string) error {
	_, _, err := s.c.do(ctx, http.MethodDelete, "/"+s.path+"/"+url.PathEscape(id), nil, "", nil)
	return err
}

// deleteMany deletes the records of type typ with ids in one request.
func (s service[T, PT]) deleteMany(ctx context.Context, typ string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	list := make([]ident, 0, len(ids))
	for _, id := range ids {
		list = append(list, ident{typ, id})
	}
	_, _, err := s.c.do(ctx, http.MethodDelete, "/"+s.path, nil, MediaType+"; ext=bulk", map[string]any{"data": list})
	return err
}

// Linkage returns the ids of the relationship rel of the record id.
func (s service[T, PT]) Linkage(ctx context.Context, id, rel string) ([]string, error) {
	return s.linkage(ctx, id, rel, nil)
}

// related returns one page of the records of the relationship rel of the
// record id of s, in the order of the linkage, from their collection target.
// opts may set Page, PerPage and Filter, whose filters name attributes of the
// related records ("condition:critical"); the linkage is read with them, the
// records with one GET of the collection by id.
func related[R any, PR record[R], T any, PT record[T]](ctx context.Context, s service[T, PT], id, rel string,
	target service[R, PR], opts *ListOptions) ([]R, error) {
	q := url.Values{}
	if opts != nil {
		linkOpts := ListOptions{Page: opts.Page, PerPage: opts.PerPage}
		for _, f := range opts.Filter {
			linkOpts.Filter = append(linkOpts.Filter, rel+"."+f)
		}
		q = linkOpts.values()
	}
	ids, err := s.linkage(ctx, id, rel, q)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	byID := (&ListOptions{Filter: []string{"id:" + strings.Join(ids, "|")}, PerPage: len(ids)}).values()
	_, b, err := s.c.do(ctx, http.MethodGet, "/"+target.path, byID, "", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data []wireObject `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	objs := make(map[string]*wireObject, len(doc.Data))
	for i := range doc.Data {
		objs[doc.Data[i].ID] = &doc.Data[i]
	}
	out := make([]R, 0, len(ids))
	for _, id := range ids {
		if o, ok := objs[id]; ok {
			r, err := decode[R, PR](o)
			if err != nil {
				return nil, err
			}
			out = append(out, *r)
		}
	}
	return out, nil
}

// linkage reads the linkage of the relationship rel of the record id, with
// the query q.
func (s service[T, PT]) linkage(ctx context.Context, id, rel string, q url.Values) ([]string, error) {
	_, b, err := s.c.do(ctx, http.MethodGet, "/"+s.path+"/"+url.PathEscape(id)+"/relationships/"+rel, q, "", nil)
	if err != nil {
		return nil, err
	}
	var o wireObject
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	o.Relationships = map[string]wireRel{rel: {Data: doc.Data}}
	return o.linkage()[rel], nil
}

// link changes the to-many relationship rel of the record id: method POST adds
// ids, PATCH replaces the linkage with ids, DELETE removes ids.
func (s service[T, PT]) link(ctx context.Context, method, id, rel, typ string, ids []string) error {
	_, _, err := s.c.do(ctx, method, "/"+s.path+"/"+url.PathEscape(id)+"/relationships/"+rel, nil, MediaType, toMany(typ, ids))
	return err
}
