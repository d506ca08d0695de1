/**
 * A receipt a tipster can write down: 16 digits in four groups, from a CSPRNG. It is not the tip id
 * (which names folders on disk), so seizing the inbox does not reveal what a tipster was told.
 */
import { randomInt, randomBytes } from 'node:crypto';

export function newReceipt(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) groups.push(String(randomInt(0, 10_000)).padStart(4, '0'));
  return groups.join('-');
}

export function newTipId(): string {
  return randomBytes(16).toString('hex');
}
