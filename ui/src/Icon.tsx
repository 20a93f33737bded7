// Icons drawn inline (no icon font, no emoji font needed): each is decorative, the button carries the name.
const PATHS: Record<string, string> = {
  attach: "M16.5 6.5 8.8 14.2a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.6-5.6l-8.3 8.3a6 6 0 0 0 8.5 8.5l7.3-7.3",
  pencil: "M4 20h4L19 9l-4-4L4 16v4Zm11-15 4 4",
  trash: "M4 7h16M9 7V4h6v3m-8 0 1 13h8l1-13",
  menu: "M4 6h16M4 12h16M4 18h16",
  mail: "M3 6h18v12H3V6Zm0 0 9 7 9-7",
  file: "M6 3h8l4 4v14H6V3Zm8 0v4h4",
  gear: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6Zm7.4-3 1.6-1.2-1.6-2.8-1.9.6-1.5-.9L15.6 5h-3.2l-.4 2-1.5.9-1.9-.6-1.6 2.8L8.6 12l-1.6 1.2 1.6 2.8 1.9-.6 1.5.9.4 2h3.2l.4-2 1.5-.9 1.9.6 1.6-2.8Z",
};

export function Icon({ name }: { name: keyof typeof PATHS | string }) {
  return (
    <svg className="icon-svg" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"
         fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d={PATHS[name]} />
    </svg>
  );
}
