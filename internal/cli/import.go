package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/latch-auth/latch/internal/users"
)

// importRecord accepts both shapes Auth0 hands out: the password-hash export
// (MongoDB-style NDJSON with _id/$oid and passwordHash) and the bulk-import
// schema (user_id, password_hash or custom_password_hash).
type importRecord struct {
	UserID             string          `json:"user_id"`
	OID                json.RawMessage `json:"_id"`
	OIDUpper           json.RawMessage `json:"_ID"`
	AltID              string          `json:"alt_id"`
	Connection         string          `json:"connection"`
	Email              string          `json:"email"`
	EmailVerified      bool            `json:"email_verified"`
	Username           string          `json:"username"`
	Name               string          `json:"name"`
	Nickname           string          `json:"nickname"`
	GivenName          string          `json:"given_name"`
	FamilyName         string          `json:"family_name"`
	Picture            string          `json:"picture"`
	Blocked            bool            `json:"blocked"`
	UserMetadata       json.RawMessage `json:"user_metadata"`
	AppMetadata        json.RawMessage `json:"app_metadata"`
	PasswordHash       string          `json:"passwordHash"`
	PasswordHashSnake  string          `json:"password_hash"`
	CustomPasswordHash *struct {
		Algorithm string `json:"algorithm"`
		Hash      struct {
			Value string `json:"value"`
		} `json:"hash"`
	} `json:"custom_password_hash"`
}

// id returns the user id to keep: "auth0|" + the export's id.
func (r *importRecord) id() string {
	if r.UserID != "" {
		if strings.Contains(r.UserID, "|") {
			return r.UserID
		}
		return "auth0|" + r.UserID
	}
	if r.AltID != "" {
		return "auth0|" + r.AltID
	}
	for _, raw := range []json.RawMessage{r.OID, r.OIDUpper} {
		var oid struct {
			OID string `json:"$oid"`
		}
		var plain string
		if json.Unmarshal(raw, &oid) == nil && oid.OID != "" {
			return "auth0|" + oid.OID
		}
		if json.Unmarshal(raw, &plain) == nil && plain != "" {
			return "auth0|" + plain
		}
	}
	return ""
}

// hash returns the bcrypt hash to keep, or an error for what latch cannot
// verify.
func (r *importRecord) hash() (string, error) {
	h := r.PasswordHash
	if h == "" {
		h = r.PasswordHashSnake
	}
	if h == "" && r.CustomPasswordHash != nil {
		if alg := r.CustomPasswordHash.Algorithm; alg != "bcrypt" && alg != "argon2" {
			return "", fmt.Errorf("custom_password_hash algorithm %q is not supported (bcrypt, argon2)", alg)
		}
		h = r.CustomPasswordHash.Hash.Value
	}
	if h == "" {
		return "", errors.New("no password hash")
	}
	if !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") && !strings.HasPrefix(h, "$argon2id$") {
		return "", errors.New("password hash is neither bcrypt nor argon2id")
	}
	return h, nil
}

func usersImport(ctx context.Context, env Env, args []string) error {
	fs, cfgPath := newFlags(env, "users import", "users import FILE|-")
	conn := fs.String("connection", "", "connection for records that name none (default: the first configured)")
	ref, rest := splitFirstPositional(args)
	if err := parse(fs, rest); err != nil {
		return err
	}
	if ref == "" && fs.NArg() > 0 {
		ref = fs.Arg(0)
	}
	if ref == "" {
		return usageError{"missing FILE (or - for standard input)"}
	}
	in := env.Stdin
	if ref != "-" {
		f, err := os.Open(ref)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	records, err := readRecords(in)
	if err != nil {
		return err
	}
	u, err := openUsers(ctx, env, *cfgPath, *conn)
	if err != nil {
		return err
	}
	defer u.st.Close()
	ok, failed := 0, 0
	for i, rec := range records {
		if err := importOne(ctx, u, rec); err != nil {
			failed++
			fmt.Fprintf(env.Stderr, "record %d (%s): %v\n", i+1, rec.Email, err)
			continue
		}
		ok++
	}
	fmt.Fprintf(env.Stdout, "imported %d user(s), %d failed\n", ok, failed)
	if failed > 0 {
		return fmt.Errorf("%d record(s) not imported", failed)
	}
	return nil
}

func importOne(ctx context.Context, u *usersEnv, rec importRecord) error {
	hash, err := rec.hash()
	if err != nil {
		return err
	}
	connection := rec.Connection
	if connection == "" || u.cfg.Connection(connection) == nil {
		connection = u.connection
	}
	_, err = users.Create(ctx, u.st, nil, users.NewUser{
		ID: rec.id(), Connection: connection, Email: rec.Email, EmailVerified: rec.EmailVerified,
		Username: rec.Username, PasswordHash: hash, Name: rec.Name, Nickname: rec.Nickname,
		GivenName: rec.GivenName, FamilyName: rec.FamilyName, Picture: rec.Picture,
		Blocked: rec.Blocked, UserMetadata: rec.UserMetadata, AppMetadata: rec.AppMetadata,
	}, 0, time.Now())
	if err != nil {
		return describeUserError(err, rec.Email)
	}
	return nil
}

// readRecords reads JSON lines, or one JSON array.
func readRecords(in io.Reader) ([]importRecord, error) {
	data, err := io.ReadAll(io.LimitReader(in, 1<<30))
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var recs []importRecord
		if err := json.Unmarshal(trimmed, &recs); err != nil {
			return nil, fmt.Errorf("parse JSON array: %w", err)
		}
		return recs, nil
	}
	var recs []importRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r importRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}
