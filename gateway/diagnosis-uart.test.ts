// The UART line model against characters worked out by hand from the frame layout (start 0, data LSB first, parity,
// stop 1; the receiver samples mid-bit from a falling edge): never against the model's own output.
import { describe, expect, it } from 'vitest';
import { fitsGroups, groupConstraints, slowSenderGroups, uartBits, uartReread } from './diagnosis-uart.js';

const N81 = (baudRate: number) => ({ baudRate, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const });
const E81 = (baudRate: number) => ({ ...N81(baudRate), parity: 'even' as const });

describe('UART line model', () => {
  it('lays out a character as start, data LSB first, parity, stop', () => {
    expect([...uartBits(Buffer.from([0x55]), N81(9600))]).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    // Even parity over 0x01 (one 1 bit): the parity bit makes it two.
    expect([...uartBits(Buffer.from([0x01]), E81(19200))]).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('reads what was sent when both ends agree', () => {
    const data = Buffer.from('0123 SPO2=97% \x00\xff\x80\x7f', 'latin1');
    for (const f of [N81(1200), N81(9600), N81(115200), E81(19200)]) expect(uartReread(data, f, f)).toEqual(data);
  });

  it('a receiver twice as fast reads every bit twice from each falling edge', () => {
    // 0x55 at 9600: line 0 1010 1010 1. At 19200 the first character samples line bits 0,1,1,2,2,3,3,4: data
    // 0,1,1,0,0,1,1,0 = 0x66, its stop sample line bit 4 = 0 (a framing error, delivered anyway). Hunting resumes
    // after that sample; the next 1-to-0 edge is line bit 6: bits 6,7,7,8,8,9,9,10 give 0,1,1,0,0,1,1,1 = 0xE6.
    expect([...uartReread(Buffer.from([0x55]), N81(9600), N81(19200))]).toEqual([0x66, 0xe6]);
    // 0x00: one character of zeros (a break, delivered as 0x00); the line then rises for the stop bit and stays idle.
    expect([...uartReread(Buffer.from([0x00]), N81(9600), N81(19200))]).toEqual([0x00]);
  });

  it('a receiver slower than the sender mixes its bits: a start bit it sees as 1 is a glitch', () => {
    // 0x0F at 19200: line 0 1111 0000 1. At 9600 the start check lands on line bit 1 (a 1): not a start. The next
    // edge is line bit 5; from there the receiver samples line bits 6 (start), 8, 10, 12, ...: 0 then idle 1s = 0xFE.
    expect([...uartReread(Buffer.from([0x0f]), N81(19200), N81(9600))]).toEqual([0xfe]);
  });

  it('8E1 read as 8N1 keeps the data; 8N1 read as 8E1 loses the next start bit when characters run back to back', () => {
    // 0x03 8E1: parity 0 where an 8N1 receiver expects its stop bit: a framing error, the data intact.
    expect([...uartReread(Buffer.from([0x03, 0x03]), E81(19200), N81(19200))]).toEqual([0x03, 0x03]);
    // 0x41 0x42 8N1 read as 8E1: the parity sample takes the first stop bit, the stop sample the next start bit (0),
    // and hunting resumes after it: the next edge is 0x42's bit 1 to bit 2 (1 then 0), line bit 13. From there: line
    // bits 14-21 = 0,0,0,1,0,1,1,1 (0x42's bits 2-7, its stop, idle) = 0xE8.
    expect([...uartReread(Buffer.from([0x41, 0x42]), N81(19200), E81(19200))]).toEqual([0x41, 0xe8]);
  });

  it('the pattern of a slower sender: which data bits a faster receiver reads from the same sender bit', () => {
    // Twice as fast: data bit n samples (32(n+1)+17)/64 sender bits after the edge: 0,1,1,2,2,3,3,4.
    expect(slowSenderGroups(9600, 19200)).toEqual([0, 1, 1, 2, 2, 3, 3, 4]);
    expect(groupConstraints(slowSenderGroups(9600, 19200))).toBe(4);
    // Four times as fast: 0,0,0,1,1,1,1,2; eight times: all but the last bit in the edge bit.
    expect(slowSenderGroups(2400, 9600)).toEqual([0, 0, 0, 1, 1, 1, 1, 2]);
    expect(slowSenderGroups(1200, 9600)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(fitsGroups(0x66, slowSenderGroups(9600, 19200))).toBe(true);
    expect(fitsGroups(0x55, slowSenderGroups(9600, 19200))).toBe(false);
    // Every character a twice-as-fast receiver delivers fits, whatever was sent.
    const sent = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const read = uartReread(sent, N81(9600), N81(19200));
    expect(read.length).toBeGreaterThan(256);
    expect([...read].every((b) => fitsGroups(b, slowSenderGroups(9600, 19200)))).toBe(true);
  });
});
