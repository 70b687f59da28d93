package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestPasswordRole checks that a new database is reachable with the password role over
// TCP, and that a wrong password is refused (password authentication is really on).
func TestPasswordRole(t *testing.T) {
	s := Start(t)
	uri := s.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var user, db string
	if err := conn.QueryRow(ctx, "SELECT current_user, current_database()").Scan(&user, &db); err != nil {
		t.Fatal(err)
	}
	if user != User || !strings.HasSuffix(uri, "/"+db+"?sslmode=disable") {
		t.Fatalf("connected as %s to %s via %s", user, db, uri)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE x (id bigint)"); err != nil {
		t.Fatalf("owner cannot create a table: %v", err)
	}
	bad := strings.Replace(uri, "s3cr", "wrong", 1)
	if c, err := pgx.Connect(ctx, bad); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password was accepted")
	} else if !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestDBName(t *testing.T) {
	for _, name := range []string{"TestX", "TestConformance/RowsEqualRecords", strings.Repeat("TestLong/", 20)} {
		n := dbName(name, 12)
		if len(n) > 63 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("%q -> %q", name, n)
		}
	}
}
