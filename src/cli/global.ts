// Global flags stand before the command name, as with docker.
import { InvalidArgument } from '../errors.js';

export interface GlobalFlags {
  host?: string;
  context?: string;
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string;
  debug: boolean;
  help: boolean;
  version: boolean;
  rest: string[];
}

export function parseGlobal(argv: string[]): GlobalFlags {
  const flags: GlobalFlags = { debug: false, help: false, version: false, rest: [] };
  let i = 0;
  const value = (name: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new InvalidArgument(`${name} needs a value.`);
    return v;
  };
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-H' || word === '--host') flags.host = value(word);
    else if (word.startsWith('--host=')) flags.host = word.slice(7);
    else if (word.startsWith('-H') && word.length > 2) flags.host = word.slice(2);
    else if (word === '-c' || word === '--context') flags.context = value(word);
    else if (word.startsWith('--context=')) flags.context = word.slice(10);
    else if (word === '--kubeconfig') flags.kubeconfig = value(word);
    else if (word.startsWith('--kubeconfig=')) flags.kubeconfig = word.slice(13);
    else if (word === '--kube-context') flags.kubeContext = value(word);
    else if (word.startsWith('--kube-context=')) flags.kubeContext = word.slice(15);
    else if (word === '-n' || word === '--namespace') flags.namespace = value(word);
    else if (word.startsWith('--namespace=')) flags.namespace = word.slice(12);
    else if (word === '-D' || word === '--debug') flags.debug = true;
    else if (word === '-h' || word === '--help') flags.help = true;
    else if (word === '-v' || word === '--version') flags.version = true;
    else if (word.startsWith('-') && word !== '-') throw new InvalidArgument(`Unknown global flag ${word}.`, 'See `porthole --help`.');
    else break;
  }
  flags.rest = argv.slice(i);
  return flags;
}

