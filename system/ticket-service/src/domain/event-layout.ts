export interface SectionLayout {
  name: string;
  rows: number;
  seatsPerRow: number;
  price: number;
}

export interface SeatSpec {
  section: string;
  row: string;
  number: number;
  price: number;
}

export const MAX_SEATS_PER_EVENT = 100_000;

/** Row labels as on a ticket: A..Z, then AA, AB, … */
export function rowLabel(index: number): string {
  let n = index;
  let label = '';
  do {
    label = String.fromCharCode(65 + (n % 26)) + label;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return label;
}

export function seatsFromLayout(sections: readonly SectionLayout[]): SeatSpec[] {
  const seats: SeatSpec[] = [];
  for (const section of sections) {
    for (let r = 0; r < section.rows; r++) {
      for (let n = 1; n <= section.seatsPerRow; n++) {
        seats.push({ section: section.name, row: rowLabel(r), number: n, price: section.price });
      }
    }
  }
  return seats;
}

export function capacityOf(sections: readonly SectionLayout[]): number {
  return sections.reduce((sum, s) => sum + s.rows * s.seatsPerRow, 0);
}
