// The contract every device transport meets: open, deliver bytes, report the close.
// A close with an error is a disconnect the device loop recovers from by reconnecting.
export interface LinkHandlers {
  data(chunk: Buffer): void;
  close(err?: Error): void;
}

export interface Link {
  write(data: Buffer): void;
  close(): Promise<void>;
}

export type LinkOpener = (handlers: LinkHandlers) => Promise<Link>;
