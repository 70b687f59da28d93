package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gorgias-kafka/gorgias-kafka/internal/testing/proctest"
)

const root = "../../"

// compose is the subset of the Compose specification docker-compose.yml may use. It is
// decoded strictly, so a misspelt field (healtcheck, env-file) fails the test instead of
// being ignored by the reader.
type compose struct {
	Name     string
	Services map[string]service
	Secrets  map[string]struct{ File string }
	Volumes  map[string]any
}

type service struct {
	Image           string
	Build           *struct{ Context, Target string }
	Restart         string
	Entrypoint      []string
	Profiles        []string
	DependsOn       map[string]struct{ Condition string } `yaml:"depends_on"`
	EnvFile         []string                              `yaml:"env_file"`
	Environment     map[string]string
	Volumes         []string
	Secrets         []string
	Ports           []string
	StopGracePeriod string `yaml:"stop_grace_period"`
	Healthcheck     *struct {
		Test        []string
		Interval    string
		Timeout     string
		StartPeriod string `yaml:"start_period"`
		Retries     int
	}
}

// keyInfo is one configuration key of a binary, as its `config` sub-command prints it.
type keyInfo struct {
	Name, Value string
	Secret      bool
}

// binaryConfig runs `<target> config` of the built binary with exactly env (plus PATH
// and HOME) and returns its keys by environment variable, or its exit code and stderr.
func binaryConfig(t *testing.T, target string, env map[string]string) (map[string]keyInfo, int, string) {
	t.Helper()
	bin := proctest.Build(t, root+target)
	cmd := exec.Command(bin, "config")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return nil, ee.ExitCode(), stderr.String()
	}
	keys := map[string]keyInfo{}
	for _, line := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			t.Fatalf("%s config: bad line %q", target, line)
		}
		keys[f[1]] = keyInfo{Name: f[0], Value: f[2], Secret: len(f) > 3 && f[3] == "secret"}
	}
	return keys, 0, ""
}

// defaultKeys returns the keys of a binary with their defaults (the producer needs an
// account to load).
func defaultKeys(t *testing.T, target string) map[string]keyInfo {
	t.Helper()
	keys, code, stderr := binaryConfig(t, target, map[string]string{"GORGIAS_URI": "gorgias://x?api_key=k&email=e@example.com"})
	if code != 0 {
		t.Fatalf("%s config exits %d: %s", target, code, stderr)
	}
	return keys
}

func readCompose(t *testing.T) (compose, []string) {
	t.Helper()
	b, err := os.ReadFile(root + "docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	// Every string of the document (keys and values, not comments), for interpolation.
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		t.Fatal(err)
	}
	var scalars []string
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			scalars = append(scalars, n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&node)
	return c, scalars
}

// envExample returns the variables .env.example sets (active) and those it only
// documents (commented "# NAME=value" lines), with their values.
func envExample(t *testing.T) (active, documented map[string]string) {
	t.Helper()
	f, err := os.Open(root + ".env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	active, documented = map[string]string{}, map[string]string{}
	re := regexp.MustCompile(`^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := re.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		documented[m[2]] = m[3]
		if m[1] == "" {
			if _, dup := active[m[2]]; dup {
				t.Errorf(".env.example sets %s twice", m[2])
			}
			active[m[2]] = m[3]
		}
	}
	return active, documented
}

// dockerfileStages returns the text of each named stage of the Dockerfile.
func dockerfileStages(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(root + "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]string{}
	re := regexp.MustCompile(`(?im)^FROM\s+\S+\s+AS\s+(\S+)\s*$`)
	idx := re.FindAllSubmatchIndex(b, -1)
	for i, m := range idx {
		end := len(b)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		stages[string(b[m[2]:m[3]])] = string(b[m[0]:end])
	}
	return stages
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate resolves ${VAR}, ${VAR:-default} and ${VAR-default} as compose does.
func interpolate(s string, vars map[string]string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		p := interpolation.FindStringSubmatch(m)
		v, ok := vars[p[1]]
		switch p[2] {
		case ":-":
			if v == "" {
				return p[3]
			}
		case "-":
			if !ok {
				return p[3]
			}
		}
		return v
	})
}

func TestComposeServices(t *testing.T) {
	c, _ := readCompose(t)
	stages := dockerfileStages(t)
	for _, want := range []string{"kafka", "producer", "sink-duckdb", "sink-bigquery"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("docker-compose.yml has no service %s", want)
		}
	}
	for name, s := range c.Services {
		t.Run(name, func(t *testing.T) {
			if !slices.Contains([]string{"always", "unless-stopped", "on-failure"}, strings.SplitN(s.Restart, ":", 2)[0]) {
				t.Errorf("restart policy %q: want always, unless-stopped or on-failure", s.Restart)
			}
			h := s.Healthcheck
			if h == nil || len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL") {
				t.Fatalf("no usable healthcheck: %+v", h)
			}
			for _, d := range []string{h.Interval, h.Timeout, h.StartPeriod} {
				if _, err := time.ParseDuration(d); err != nil {
					t.Errorf("healthcheck duration %q: %v", d, err)
				}
			}
			if h.Retries < 1 {
				t.Errorf("healthcheck retries %d", h.Retries)
			}
			for _, v := range s.Volumes {
				if src := strings.SplitN(v, ":", 2)[0]; !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
					if _, ok := c.Volumes[src]; !ok {
						t.Errorf("volume %s is not declared", src)
					}
				}
			}
			for _, sec := range s.Secrets {
				if _, ok := c.Secrets[sec]; !ok {
					t.Errorf("secret %s is not declared", sec)
				}
			}
			for dep, cond := range s.DependsOn {
				if _, ok := c.Services[dep]; !ok || cond.Condition != "service_healthy" {
					t.Errorf("depends_on %s %q: want an existing service, condition service_healthy", dep, cond.Condition)
				}
			}

			if s.Build == nil {
				// A third-party image (Kafka, a destination database) must not read .env,
				// which holds our binaries' settings and secrets: the Kafka image, for one,
				// turns every KAFKA_* variable into a broker setting.
				if len(s.EnvFile) > 0 {
					t.Errorf("%s (%s) must not read %v", name, s.Image, s.EnvFile)
				}
				if strings.HasPrefix(s.Image, "apache/kafka:") {
					for k := range s.Environment {
						if !strings.HasPrefix(k, "KAFKA_") {
							t.Errorf("kafka: %s is not a broker setting", k)
						}
					}
				}
				if s.Image == "" || !strings.Contains(s.Image, ":") {
					t.Errorf("%s: image %q must name a tag", name, s.Image)
				}
				return
			}

			// Our images.
			if (s.Build.Target != "producer" && s.Build.Target != "consumer") || s.Build.Context != "." {
				t.Fatalf("build %+v: want context . and target producer or consumer", *s.Build)
			}
			stage, ok := stages[s.Build.Target]
			if !ok {
				t.Fatalf("Dockerfile has no stage %s", s.Build.Target)
			}
			if !slices.Equal(s.EnvFile, []string{".env"}) {
				t.Errorf("env_file %v: want [.env]", s.EnvFile)
			}
			if dep, ok := s.DependsOn["kafka"]; !ok || dep.Condition != "service_healthy" {
				t.Error("does not wait for a healthy kafka")
			}
			keys := defaultKeys(t, s.Build.Target)
			for k := range s.Environment {
				if _, ok := keys[k]; !ok {
					t.Errorf("environment %s is not a configuration key of the %s binary", k, s.Build.Target)
				}
			}
			if b := s.Environment["KAFKA_BROKERS"]; b != "kafka:9092" {
				t.Errorf("KAFKA_BROKERS = %q, want kafka:9092", b)
			}
			// The health probe is in the image and probes the binary's own metrics port,
			// which is the one published.
			listen := keys["METRICS_LISTEN"].Value
			if listen == "" {
				t.Fatalf("the %s binary has no metrics.listen key: nothing serves /readyz", s.Build.Target)
			}
			port := strings.TrimPrefix(listen, ":")
			if !strings.Contains(stage, "/out/healthprobe") {
				t.Errorf("Dockerfile stage %s does not copy the health probe", s.Build.Target)
			}
			if want := []string{"CMD", "/usr/local/bin/healthprobe", "--default-listen=:" + port}; !slices.Equal(h.Test, want) {
				t.Errorf("healthcheck %v, want %v", h.Test, want)
			}
			for _, p := range s.Ports {
				if !strings.HasPrefix(p, "127.0.0.1:") || !strings.HasSuffix(p, ":"+port) {
					t.Errorf("port %s: want 127.0.0.1:<host port>:%s", p, port)
				}
			}
		})
	}

	duck, bq := c.Services["sink-duckdb"], c.Services["sink-bigquery"]
	if u := duck.Environment["DEST_URI"]; !strings.HasPrefix(u, "duckdb:////data/") || !slices.Contains(duck.Volumes, "duckdb-data:/data") {
		t.Errorf("sink-duckdb: DEST_URI %q and volumes %v: want the file in the named volume at /data", u, duck.Volumes)
	}
	if len(duck.Profiles) != 0 || !slices.Equal(bq.Profiles, []string{"bigquery"}) {
		t.Errorf("profiles: duckdb %v (want none), bigquery %v (want [bigquery])", duck.Profiles, bq.Profiles)
	}
	u, err := url.Parse(interpolate(bq.Environment["DEST_URI"], map[string]string{"DEPLOY_BIGQUERY_PROJECT": "p"}))
	if err != nil || u.Scheme != "bigquery" || u.Host != "p" || len(bq.Secrets) != 1 ||
		u.Query().Get("credentials_path") != "/run/secrets/"+bq.Secrets[0] || u.Query().Get("location") == "" {
		t.Errorf("sink-bigquery: DEST_URI %q (%v) must name the mounted secret %v and a location", bq.Environment["DEST_URI"], err, bq.Secrets)
	}
}

// The variables of .env.example and docker-compose.yml are real: configuration keys or
// compose variables that are used, each documented.
func TestEnvExample(t *testing.T) {
	c, scalars := readCompose(t)
	active, documented := envExample(t)
	keys := defaultKeys(t, "producer")
	for k, v := range defaultKeys(t, "consumer") {
		keys[k] = v
	}

	used := map[string]bool{}
	for _, s := range scalars {
		if strings.Contains(strings.ReplaceAll(interpolation.ReplaceAllString(s, ""), "$$", ""), "$") {
			t.Errorf("docker-compose.yml: %q: use ${NAME} (or $$ for a literal $)", s)
		}
		for _, m := range interpolation.FindAllStringSubmatch(s, -1) {
			used[m[1]] = true
		}
	}
	for v := range used {
		if _, ok := documented[v]; !ok {
			t.Errorf("docker-compose.yml uses ${%s}, which .env.example does not document", v)
		}
		// Compose-only variables reach the containers too (env_file): keep them apart
		// from the configuration keys.
		if !strings.HasPrefix(v, "DEPLOY_") {
			t.Errorf("compose variable %s: name it DEPLOY_*", v)
		}
	}
	for k := range keys {
		if strings.HasPrefix(k, "DEPLOY_") || strings.HasPrefix(k, "COMPOSE_") {
			t.Errorf("configuration key %s collides with compose variables", keys[k].Name)
		}
	}
	for v := range documented {
		_, isKey := keys[v]
		if !isKey && !used[v] && v != "COMPOSE_PROFILES" {
			t.Errorf(".env.example: %s is neither a configuration key nor used by docker-compose.yml", v)
		}
		if isKey && keys[v].Secret && active[v] != "" && v != "GORGIAS_URI" {
			t.Errorf(".env.example sets the secret %s", v)
		}
	}
	// Values set per service win over .env: documenting them there would mislead.
	for name, s := range c.Services {
		for k := range s.Environment {
			if _, ok := active[k]; ok {
				t.Errorf(".env.example sets %s, which service %s overrides", k, name)
			}
		}
	}
	if _, ok := active["GORGIAS_URI"]; !ok {
		t.Error(".env.example does not set GORGIAS_URI")
	}
}

// Each service's configuration, as its container would see it (.env.example, then the
// service's environment), loads without errors.
// mountSecrets stands in for compose's secret mounts: a setting that names the file
// /run/secrets/<secret> of one of the service's secrets names a temporary file instead,
// holding a made-up secret.
func mountSecrets(t *testing.T, secrets []string, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range env {
		name, ok := strings.CutPrefix(v, "/run/secrets/")
		if !ok || !slices.Contains(secrets, name) {
			continue
		}
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("made-up-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env[k] = f
	}
}

func TestEnvExampleLoads(t *testing.T) {
	c, _ := readCompose(t)
	active, _ := envExample(t)
	for name, s := range c.Services {
		if s.Build == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range active {
				env[k] = v
			}
			for k, v := range s.Environment {
				env[k] = interpolate(v, active)
			}
			mountSecrets(t, s.Secrets, env)
			keys, code, stderr := binaryConfig(t, s.Build.Target, env)
			if code != 0 {
				t.Fatalf("%s does not start with .env.example: exit %d: %s", name, code, stderr)
			}
			if s.Build.Target == "consumer" && keys["SINK_NAME"].Value != strings.TrimPrefix(name, "sink-") {
				t.Errorf("sink name %q, want %q", keys["SINK_NAME"].Value, strings.TrimPrefix(name, "sink-"))
			}
		})
	}
}

func TestDockerfile(t *testing.T) {
	stages := dockerfileStages(t)
	for _, target := range []string{"producer", "consumer", "simulator"} {
		st, ok := stages[target]
		if !ok {
			t.Errorf("Dockerfile has no target %s", target)
			continue
		}
		user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(st)
		if user == nil || strings.HasPrefix(user[1], "root") || strings.HasPrefix(user[1], "0") {
			t.Errorf("target %s does not run as a non-root user", target)
		}
		// A HEALTHCHECK only where the image has its probe.
		if strings.Contains(st, "HEALTHCHECK") != strings.Contains(st, "healthprobe") {
			t.Errorf("target %s: HEALTHCHECK without the probe, or the probe without HEALTHCHECK", target)
		}
	}
	if !strings.Contains(stages["build-static"], "CGO_ENABLED=0") || !strings.Contains(stages["build-consumer"], "CGO_ENABLED=1") {
		t.Error("want static (CGO_ENABLED=0) producer and probe, cgo consumer")
	}
	for _, st := range []string{"build-static", "build-consumer"} {
		if !strings.Contains(stages[st], "--mount=type=cache,target=/root/.cache/go-build") ||
			!strings.Contains(stages[st], "--mount=type=cache,target=/go/pkg/mod") {
			t.Errorf("stage %s builds without the Go cache mounts", st)
		}
	}
}

// TestComposeRegistryMode: the producer and every sink of docker-compose.yml run in
// registry mode (issue 11), against the compose registry service, which they wait for.
func TestComposeRegistryMode(t *testing.T) {
	c, _ := readCompose(t)
	reg, ok := c.Services["schema-registry"]
	if !ok || reg.Healthcheck == nil {
		t.Fatal("docker-compose.yml has no schema-registry service with a health check")
	}
	for name, s := range c.Services {
		if s.Build == nil || s.Build.Target == "simulator" {
			continue
		}
		u, err := url.Parse(s.Environment["SCHEMA_REGISTRY_URL"])
		if err != nil || u.Hostname() != "schema-registry" {
			t.Errorf("%s: SCHEMA_REGISTRY_URL %q, want the compose registry (http://schema-registry:8081)", name, s.Environment["SCHEMA_REGISTRY_URL"])
		}
		if dep, ok := s.DependsOn["schema-registry"]; !ok || dep.Condition != "service_healthy" {
			t.Errorf("%s does not wait for a healthy schema-registry", name)
		}
	}
}
