-- Issue 16: an item may carry the barcode on its cartons (EAN-13, UPC-A, GTIN-8 or GTIN-14),
-- kept in its canonical form (src/scan/gs1.rs, `canonical_gtin`) so that the same GTIN scanned
-- as 13 or 14 digits finds the same item; no two items share one.
ALTER TABLE items ADD COLUMN barcode TEXT;
CREATE UNIQUE INDEX items_barcode ON items (barcode);
