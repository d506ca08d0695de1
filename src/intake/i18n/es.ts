import type { MessageKey } from './en.ts';

export const es: Record<MessageKey, string> = {
  'lang.name': 'Español',
  'error.title': 'Tu pista no se envió',
  'error.empty_tip': 'No había nada que enviar. Escribe una nota, agrega un enlace o elige un archivo y vuelve a enviar.',
  'error.bad_form': 'El formulario llegó dañado. Recarga la página y vuelve a enviar.',
  'error.upload_interrupted': 'La subida se interrumpió antes de terminar. No se guardó nada. Revisa tu conexión y vuelve a enviar.',
  'error.field_too_large': 'El campo {field} es demasiado largo. Acórtalo y vuelve a enviar.',
  'error.note_too_long': 'La nota tiene más de {max} caracteres. Acórtala o envía el resto como documento.',
  'error.too_many_links': 'Hay más de {max} enlaces. Quita algunos y vuelve a enviar.',
  'error.file_too_large': 'El archivo «{file}» supera el límite. Envía un video más corto o un archivo más pequeño.',
  'error.tip_too_large': 'Todos los archivos juntos superan el límite de una pista. Envíalos en dos o más pistas.',
  'error.too_many_files': 'Son más de {max} archivos. Envía el resto en otra pista.',
  'error.empty_file': 'El archivo «{file}» está vacío. Vuelve a elegirlo y envía de nuevo.',
  'error.unsupported_type': 'No podemos recibir el archivo «{file}» ({type}). Recibimos fotos, videos, notas de voz y audio, PDF y documentos de Word, Excel, PowerPoint y LibreOffice. No se envió nada.',
  'error.cleaning_failed': 'No pudimos quitar la información oculta de «{file}», así que no lo guardamos. Puede estar dañado. Intenta exportarlo de nuevo o envía una captura de pantalla.',
  'error.unavailable': 'La línea de pistas no puede guardar pistas de forma segura en este momento. No se guardó nada. Intenta de nuevo en unos minutos.',
  'error.not_found': 'Esta página no existe.',
  'error.internal': 'Algo falló de nuestro lado y no se guardó nada. Intenta de nuevo.',
  'error.next': 'Volver al formulario',
};
