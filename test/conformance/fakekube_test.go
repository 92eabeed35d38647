package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/yaml"
)

// recordedRequest is one request the sidecar sent to the fake Kubernetes API.
type recordedRequest struct {
	Method      string
	Path        string
	ContentType string
	Body        []byte
}

// fakeKube is a loopback Kubernetes API server holding Ingresses as JSON objects. GET returns them, PATCH
// applies JSON patches (including `test` ops, so resourceVersion guards work) and merge patches; every
// request is recorded.
type fakeKube struct {
	server *httptest.Server
	mu     sync.Mutex
	objs   map[string]map[string]any // "ns/name" -> Ingress
	reqs   []recordedRequest
	rv     int
	// stall holds requests for these Ingress names until the channel is closed (a slow API server).
	stall map[string]chan struct{}
}

const ingressPrefix = "/apis/networking.k8s.io/v1/namespaces/"

func newFakeKube(t *testing.T) *fakeKube {
	f := &fakeKube{objs: map[string]map[string]any{}, rv: 1000, stall: map[string]chan struct{}{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeKube) putIngressYAML(t *testing.T, doc []byte, mutate func(obj map[string]any)) {
	var obj map[string]any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		t.Fatalf("ingress fixture: %v", err)
	}
	if mutate != nil {
		mutate(obj)
	}
	meta := obj["metadata"].(map[string]any)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[meta["namespace"].(string)+"/"+meta["name"].(string)] = obj
}

func (f *fakeKube) ingress(ns, name string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objs[ns+"/"+name]
}

func (f *fakeKube) annotations(t *testing.T, ns, name string) map[string]string {
	obj := f.ingress(ns, name)
	if obj == nil {
		t.Fatalf("no ingress %s/%s", ns, name)
	}
	out := map[string]string{}
	meta := obj["metadata"].(map[string]any)
	if a, ok := meta["annotations"].(map[string]any); ok {
		for k, v := range a {
			out[k] = v.(string)
		}
	}
	return out
}

// requests returns the recorded requests matching method and a path suffix.
func (f *fakeKube) requests(method, pathSuffix string) []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recordedRequest
	for _, r := range f.reqs {
		if r.Method == method && strings.HasSuffix(r.Path, pathSuffix) {
			out = append(out, r)
		}
	}
	return out
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": msg,
	})
}

func (f *fakeKube) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recordedRequest{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: body})
	f.mu.Unlock()

	rest, ok := strings.CutPrefix(r.URL.Path, ingressPrefix)
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || parts[1] != "ingresses" {
		f.serveOther(w, r, body)
		return
	}
	key := parts[0] + "/" + parts[2]

	f.mu.Lock()
	stall := f.stall[parts[2]]
	f.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
			return
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	obj, found := f.objs[key]
	if !found {
		writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("ingresses.networking.k8s.io %q not found", parts[2]))
		return
	}
	current, _ := json.Marshal(obj)
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		w.Write(current)
	case http.MethodPatch:
		var patched []byte
		var err error
		switch ct := r.Header.Get("Content-Type"); ct {
		case "application/json-patch+json":
			var p jsonpatch.Patch
			if p, err = jsonpatch.DecodePatch(body); err == nil {
				patched, err = p.Apply(current)
			}
		case "application/merge-patch+json", "application/strategic-merge-patch+json":
			patched, err = jsonpatch.MergePatch(current, body)
		default:
			writeStatus(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "content type "+ct)
			return
		}
		if errors.Is(err, jsonpatch.ErrTestFailed) {
			// A failed `test` op is how a stale resourceVersion shows up in a JSON patch.
			writeStatus(w, http.StatusConflict, "Conflict", err.Error())
			return
		}
		if err != nil {
			writeStatus(w, http.StatusUnprocessableEntity, "Invalid", err.Error())
			return
		}
		var next map[string]any
		json.Unmarshal(patched, &next)
		meta := next["metadata"].(map[string]any)
		oldRV := obj["metadata"].(map[string]any)["resourceVersion"]
		if rv, ok := meta["resourceVersion"]; ok && rv != oldRV {
			writeStatus(w, http.StatusConflict, "Conflict", "the object has been modified")
			return
		}
		f.rv++
		meta["resourceVersion"] = strconv.Itoa(f.rv)
		f.objs[key] = next
		out, _ := json.Marshal(next)
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method)
	}
}

// serveOther answers what other parts of the sidecar may ask at start-up or in the background (version,
// lists and watches of other resources, Events), so the suite only depends on the Ingress behaviour.
func (f *fakeKube) serveOther(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/version" {
		w.Write([]byte(`{"major":"1","minor":"34","gitVersion":"v1.34.5","platform":"linux/amd64"}`))
		return
	}
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
		return
	}
	if r.Method != http.MethodGet {
		writeStatus(w, http.StatusNotFound, "NotFound", "the fake API does not serve "+r.Method+" "+r.URL.Path)
		return
	}
	if r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1" {
		// A watch with no events: held open until the client goes away.
		w.WriteHeader(http.StatusOK)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		<-r.Context().Done()
		return
	}
	if isCollection(r.URL.Path) {
		w.Write([]byte(`{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}`))
		return
	}
	writeStatus(w, http.StatusNotFound, "NotFound", "not found: "+r.URL.Path)
}

// isCollection tells /api/v1/namespaces/ns/services from /api/v1/namespaces/ns/services/name.
func isCollection(path string) bool {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		segs = segs[3:]
	default:
		return false
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		segs = segs[2:]
	}
	return len(segs) == 1
}

// stallIngress makes requests for this Ingress hang until the returned function is called.
func (f *fakeKube) stallIngress(t *testing.T, name string) (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.stall[name] = ch
	f.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return release
}

// writeKubeconfig points a kubeconfig at the fake server.
func (f *fakeKube) writeKubeconfig(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: %s
    # client-node refuses plain http unless told so; the fake server only listens on loopback.
    insecure-skip-tls-verify: true
users:
- name: test
  user:
    token: conformance-token
contexts:
- name: fake
  context:
    cluster: fake
    user: test
current-context: fake
`, f.server.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
