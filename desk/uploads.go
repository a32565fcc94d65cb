package desk

import (
	"fmt"
	"io"
	"mime/multipart"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// ReadUploads reads the files of a form (a multipart field's headers) as
// attachments for LearnerMessage, which checks them (CheckAttachments). A
// file is read to one byte past MaxAttachmentSize, so a larger one is
// refused by its size without being held whole; an input left empty sends
// no file and is skipped.
func ReadUploads(files []*multipart.FileHeader) ([]store.NewAttachment, error) {
	if len(files) > MaxAttachments {
		return nil, certdesk.Invalid(map[string]string{"attachments": fmt.Sprintf("at most %d files", MaxAttachments)})
	}
	var out []store.NewAttachment
	for _, fh := range files {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		data, err := readUpload(fh)
		if err != nil {
			return nil, &certdesk.Error{Code: certdesk.EINVALID, Message: "a file could not be read; choose it again", Err: err}
		}
		out = append(out, store.NewAttachment{Filename: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
	}
	return out, nil
}

func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxAttachmentSize+1))
}
