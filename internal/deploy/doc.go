// Package deploy holds no code: its tests check the deployment files at the repository
// root (Dockerfile, docker-compose.yml, .env.example) against the binaries'
// configuration keys, since no Docker engine runs them here (docs/deployment.md).
package deploy
