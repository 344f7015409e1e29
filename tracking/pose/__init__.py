"""Server-side pose estimation and media handling for uploads (no Django here)."""
