/** The tipster's pages: the form. */
import { Router } from 'express';
import { langOf } from '../lang.ts';
import { formPage } from '../views/pages.ts';

export function pageRoutes(): Router {
  const r = Router();
  r.get('/', (req, res) => {
    res.type('html').send(formPage(langOf(req)));
  });
  return r;
}
