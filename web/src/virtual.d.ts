// Types of the virtual modules made by web/build plugins.
declare module 'virtual:bnlab-digits' {
  /** URL of the digits asset, relative to the importing script's own URL (same origin). */
  const url: string;
  export default url;
}
