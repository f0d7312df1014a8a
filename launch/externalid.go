package launch

import (
	"fmt"

	"github.com/google/uuid"
)

// NewExternalID returns a fresh external ID for a new customer: a random (version 4) UUID drawn
// from crypto/rand, so it cannot be guessed by another customer of the vendor.
func NewExternalID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generating an external ID: %w", err)
	}
	return id.String(), nil
}
