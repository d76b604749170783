// Package sealed is the cryptographic core of sealed bids (EB1–EB3, EB14):
// the envelope a bid part is sealed in, the bidder's passphrase-protected
// bid key file, commitments, and the platform's signed receipts.
//
// The format is specified in FORMAT.md beside this file; the browser side
// (templates/static/sealed.js) produces and reads the same bytes.
//
// # Who holds what
//
// The bidder's browser makes a P-256 key pair; the private key leaves the
// browser only inside a passphrase-protected key file ([ReadKeyFile]). The
// platform stores the public key and its [Fingerprint]. For each bid the
// browser draws a random content key ([NewContentKey]), seals every part
// (price form, bid files) to it, and wraps the content key to the bidder's
// public key with HPKE (RFC 9180) inside each part's header. The server
// never holds a key that can read a bid before the opening (EB3).
//
// # Upload (server side, no key)
//
//	info, err := sealed.Inspect(r) // streams; refuses garbage, bad framing, unknown suite (EB1)
//	// check info.Header.Bid is the bid reference this upload was issued,
//	// then store info.SHA256 and info.Commitment and sign a receipt:
//	_, receiptJSON, err := keyring.Sign(sealed.Receipt{BidID: 1, LotID: 2, Version: 1,
//		ReceivedAt: sealed.ReceiptTime(dbNow), Parts: []sealed.ReceiptPart{info.ReceiptPart()}})
//
// # Opening (server side, with the key the bidder hands in)
//
//	ck, err := sealed.ParseContentKey(token) // "ck1.…", unwrapped in the bidder's browser
//	res, err := sealed.Open(r, ck, w)      // streams; w gets the plaintext
//	// err is one of ErrKeyForOtherBid, ErrWrongKey, ErrTampered, ErrTruncated,
//	// ErrCommitment, ErrUnsupportedSuite, ErrMalformed, ErrNotEnvelope;
//	// on any error, discard what was written to w.
//
// # Backup copy (EB14)
//
// When sealing, the bidder keeps the plaintext and the commitment nonce
// (returned by [Seal] and by sealed.js); if the key is lost,
// [VerifyBackup] checks the plaintext against the commitment in the receipt.
//
// # Receipts (EB3)
//
// A [Receipt] is signed with the platform's Ed25519 key ([Keyring]) over its
// RFC 8785 canonical JSON; anyone can check it offline with
// `ggzy receipt verify FILE --key PUBKEY` or [VerifyReceipt].
package sealed
