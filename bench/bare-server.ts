/** The baseline for bench/notes.ts: a bare Express handler that only reads the request body. */
import express from 'express';

const port = Number(process.argv[2]);
const app = express();
app.post('/tips', (req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.status(201).json({ receipt: '0000-0000-0000-0000', files: 0 }));
});
app.listen(port, '127.0.0.1');
