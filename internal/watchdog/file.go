package watchdog

import "os"

// tempFile is a new temporary file that only its descriptors keep.
func tempFile() (*os.File, error) {
	f, err := os.CreateTemp("", "bxwasm-watch-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}
