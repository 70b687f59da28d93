package bqfake

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	bq "google.golang.org/api/bigquery/v2"
)

// upload is a resumable upload session.
type upload struct {
	id    string
	job   *bq.Job
	data  []byte
	final *reply // the answer that created the job (replayed on retries)
}

// upload handles POST /upload/bigquery/v2/projects/{p}/jobs: multipart uploads,
// resumable starts and resumable chunks.
func (s *Server) upload(r *http.Request) (*reply, string) {
	if rep := s.checkProject(r); rep != nil {
		return rep, ""
	}
	q := r.URL.Query()
	if id := q.Get("upload_id"); id != "" {
		return s.uploadChunk(r, id)
	}
	switch q.Get("uploadType") {
	case "multipart":
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			return errReply(400, "invalid", "Multipart upload needs a multipart/related body"), ""
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		part, err := mr.NextPart()
		if err != nil {
			return errReply(400, "invalid", "Missing metadata part: %v", err), ""
		}
		meta, err := io.ReadAll(part)
		if err != nil {
			return errReply(400, "invalid", "Cannot read metadata part: %v", err), ""
		}
		part, err = mr.NextPart()
		if err != nil {
			return errReply(400, "invalid", "Missing media part: %v", err), ""
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return errReply(400, "invalid", "Cannot read media part: %v", err), ""
		}
		var in bq.Job
		if err := json.Unmarshal(meta, &in); err != nil {
			return errReply(400, "invalid", "Invalid JSON payload received. %v", err), ""
		}
		rep, _ := s.createLoadJob(&in, data)
		return rep, ""
	case "resumable":
		var in bq.Job
		if rep := decodeBody(r, &in); rep != nil {
			return rep, "jobs.insert.load.start"
		}
		if rep := checkLoadConfig(&in); rep != nil {
			return rep, "jobs.insert.load.start"
		}
		u := &upload{id: randomID("up_"), job: &in}
		s.mu.Lock()
		s.uploads[u.id] = u
		s.mu.Unlock()
		loc := s.URL() + "/upload/bigquery/v2/projects/" + url.PathEscape(s.project) + "/jobs?uploadType=resumable&upload_id=" + u.id
		return &reply{status: http.StatusOK, header: map[string]string{"Location": loc}}, "jobs.insert.load.start"
	}
	return errReply(400, "invalid", "Unsupported uploadType %q", q.Get("uploadType")), ""
}

// uploadChunk stores one chunk of a resumable upload; the final chunk creates the job.
func (s *Server) uploadChunk(r *http.Request, id string) (*reply, string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errReply(400, "invalid", "Cannot read chunk: %v", err), "jobs.insert.load.chunk"
	}
	s.mu.Lock()
	u := s.uploads[id]
	s.mu.Unlock()
	if u == nil {
		return errReply(404, "notFound", "Not found: upload %s", id), "jobs.insert.load.chunk"
	}
	// Content-Range: bytes a-b/* | bytes a-b/TOTAL | bytes */TOTAL
	cr := strings.TrimPrefix(r.Header.Get("Content-Range"), "bytes ")
	rng, total, ok := strings.Cut(cr, "/")
	if !ok {
		return errReply(400, "invalid", "Bad Content-Range %q", r.Header.Get("Content-Range")), "jobs.insert.load.chunk"
	}
	s.mu.Lock()
	if u.final != nil {
		rep := u.final
		s.mu.Unlock()
		return rep, "jobs.insert.load"
	}
	if rng != "*" {
		a, _, _ := strings.Cut(rng, "-")
		off, err := strconv.Atoi(a)
		if err != nil || off > len(u.data) {
			have := len(u.data)
			s.mu.Unlock()
			return resumeIncomplete(have), "jobs.insert.load.chunk"
		}
		u.data = append(u.data[:off], body...)
	}
	have := len(u.data)
	s.mu.Unlock()
	if total == "*" {
		return resumeIncomplete(have), "jobs.insert.load.chunk"
	}
	if n, err := strconv.Atoi(total); err != nil || n != have {
		return errReply(400, "invalid", "Upload size mismatch: have %d bytes, Content-Range says %s", have, total), "jobs.insert.load"
	}
	rep, done := s.createLoadJob(u.job, bytes.Clone(u.data))
	if done != nil {
		s.mu.Lock()
		if u.final == nil {
			u.final = done
		}
		s.mu.Unlock()
	}
	return rep, "jobs.insert.load"
}

// resumeIncomplete is the "308 Resume Incomplete" answer for clients that sent
// X-GUploader-No-308: 200 with an override header.
func resumeIncomplete(have int) *reply {
	h := map[string]string{"X-Http-Status-Code-Override": "308"}
	if have > 0 {
		h["Range"] = "bytes=0-" + strconv.Itoa(have-1)
	}
	return &reply{status: http.StatusOK, header: h}
}

func checkLoadConfig(in *bq.Job) *reply {
	if in.Configuration == nil || in.Configuration.Load == nil {
		return errReply(400, "invalid", "Upload jobs must be load jobs")
	}
	cfg := in.Configuration.Load
	if f := strings.ToUpper(cfg.SourceFormat); f != "NEWLINE_DELIMITED_JSON" {
		if f == "" {
			f = "CSV (the default)"
		}
		return errReply(400, "invalid", "bqfake: source format %s is unsupported by fake; use NEWLINE_DELIMITED_JSON", f)
	}
	if cfg.DestinationTable == nil || cfg.DestinationTable.DatasetId == "" || cfg.DestinationTable.TableId == "" {
		return errReply(400, "invalid", "Missing required field: configuration.load.destinationTable")
	}
	return nil
}

// createLoadJob creates and runs a load job. It returns the answer to send and, once
// the job exists (or its ID was a duplicate), the answer to replay for retried final
// chunks.
func (s *Server) createLoadJob(in *bq.Job, data []byte) (rep, done *reply) {
	if rep := checkLoadConfig(in); rep != nil {
		return rep, rep
	}
	cfg := in.Configuration.Load
	key := cfg.DestinationTable.DatasetId + "." + cfg.DestinationTable.TableId
	if rep := s.checkNotFound(key); rep != nil {
		return rep, nil
	}
	f := s.takeFault("jobs.insert.load", key)
	if rep := preFault(f); rep != nil {
		return rep, nil
	}
	j := s.newJob("load", in)
	j.dest = key
	j.inputBytes = int64(len(data))
	if rep := s.registerJob(j); rep != nil {
		return rep, rep
	}
	if f != nil && f.Kind == FaultJobFails {
		s.finishJob(j, injectedJobFailure)
	} else {
		s.finishJob(j, s.runLoad(j, cfg, data))
	}
	s.mu.Lock()
	out := okReply(s.jobJSON(j))
	s.mu.Unlock()
	ok := *out
	return postFault(f, out), &ok
}
