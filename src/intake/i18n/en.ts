export const en = {
  'lang.name': 'English',
  'error.title': 'Your tip was not sent',
  'error.empty_tip': 'There was nothing to send. Write a note, add a link or choose a file, then send again.',
  'error.bad_form': 'The form arrived damaged. Reload the page and send again.',
  'error.upload_interrupted': 'The upload was interrupted before it finished. Nothing was kept. Check your connection and send again.',
  'error.field_too_large': 'The {field} is too long. Shorten it and send again.',
  'error.note_too_long': 'The note is longer than {max} characters. Shorten it, or send the rest as a document.',
  'error.too_many_links': 'There are more than {max} links. Remove some and send again.',
  'error.file_too_large': 'The file “{file}” is larger than the limit. Send a shorter clip or a smaller file.',
  'error.tip_too_large': 'All the files together are larger than the limit for one tip. Send them in two or more tips.',
  'error.too_many_files': 'That is more than {max} files. Send the rest in another tip.',
  'error.empty_file': 'The file “{file}” is empty. Choose it again and send again.',
  'error.unsupported_type': 'We cannot take the file “{file}” ({type}). We take photos, videos, voice notes and audio, PDF, Word, Excel, PowerPoint and LibreOffice documents. Nothing was sent.',
  'error.cleaning_failed': 'We could not remove the hidden information from “{file}”, so we did not keep it. It may be damaged. Try exporting it again, or send a screenshot of it instead.',
  'error.unavailable': 'The tip line cannot keep tips safely right now. Nothing was kept. Please try again in a few minutes.',
  'error.not_found': 'This page does not exist.',
  'error.internal': 'Something went wrong on our side and nothing was kept. Please try again.',
  'error.next': 'Go back to the form',
} as const;

export type MessageKey = keyof typeof en;
